"""The Haystack indexing pipelines: files to heading-aware chunks, chunks to the store.

Indexing is two pipelines so that one broken item fails alone while embedding still
runs in large batches:

* `preprocessing`, run once per item: route by file type → convert → split at
  headings (long sections split again by words; a long table's header repeated in each
  chunk it spans) → clean → annotate with metadata.
* `embedding`, run per batch of chunks: embed (title and section included) → write.
"""

from __future__ import annotations

from haystack import Document, Pipeline
from haystack.components.converters import (
    HTMLToDocument,
    PyPDFToDocument,
    TextFileToDocument,
)
from haystack.components.joiners import DocumentJoiner
from haystack.components.preprocessors import DocumentCleaner, MarkdownHeaderSplitter
from haystack.components.routers import FileTypeRouter
from haystack.components.writers import DocumentWriter
from haystack.document_stores.types import DocumentStore, DuplicatePolicy

from knowledge.components.chunk_annotator import ChunkAnnotator
from knowledge.components.docx_converter import DOCXToMarkdown
from knowledge.components.embedders import build_document_embedder
from knowledge.components.table_headers import TableHeaders
from knowledge.sources import DOCX_MIME, SourceItem
from supportbot.settings import Settings

# Chunk size in words. all-MiniLM-L6-v2 reads 256 word pieces; 180 words plus the
# title and section path fit, so no chunk is silently truncated by the embedder.
CHUNK_WORDS = 180
CHUNK_OVERLAP_WORDS = 20


class ItemConversionError(RuntimeError):
    """An item produced no indexable text (broken, empty or unsupported file)."""


def build_preprocessing_pipeline() -> Pipeline:
    pipeline = Pipeline()
    pipeline.add_component(
        "router",
        FileTypeRouter(
            mime_types=["text/markdown", "text/html", "application/pdf", DOCX_MIME, "text/plain"]
        ),
    )
    # Markdown is read as text so its `#` headings survive for the splitter.
    pipeline.add_component("markdown", TextFileToDocument())
    pipeline.add_component(
        "html",
        HTMLToDocument(
            extraction_kwargs={
                "output_format": "markdown",
                "include_tables": True,
                "include_links": False,
                "favor_recall": True,
            }
        ),
    )
    pipeline.add_component("pdf", PyPDFToDocument())
    pipeline.add_component("docx", DOCXToMarkdown())
    pipeline.add_component("text", TextFileToDocument())
    pipeline.add_component("joiner", DocumentJoiner())
    pipeline.add_component(
        "splitter",
        MarkdownHeaderSplitter(
            secondary_split="word",
            split_length=CHUNK_WORDS,
            split_overlap=CHUNK_OVERLAP_WORDS,
            keep_headers=True,
        ),
    )
    pipeline.add_component("tables", TableHeaders())
    pipeline.add_component(
        "cleaner",
        DocumentCleaner(remove_empty_lines=True, remove_extra_whitespaces=False),
    )
    pipeline.add_component("annotator", ChunkAnnotator())

    pipeline.connect("router.text/markdown", "markdown.sources")
    pipeline.connect("router.text/html", "html.sources")
    pipeline.connect("router.application/pdf", "pdf.sources")
    pipeline.connect(f"router.{DOCX_MIME}", "docx.sources")
    pipeline.connect("router.text/plain", "text.sources")
    for converter in ("markdown", "html", "pdf", "docx", "text"):
        pipeline.connect(f"{converter}.documents", "joiner.documents")
    pipeline.connect("joiner.documents", "splitter.documents")
    pipeline.connect("splitter.documents", "tables.documents")
    pipeline.connect("tables.documents", "cleaner.documents")
    pipeline.connect("cleaner.documents", "annotator.documents")
    return pipeline


class Chunker:
    """Turns one source item into annotated chunks with the preprocessing pipeline."""

    def __init__(self) -> None:
        self.pipeline = build_preprocessing_pipeline()

    def chunk(self, item: SourceItem) -> list[Document]:
        result = self.pipeline.run(
            {"router": {"sources": [item.stream]}, "annotator": {"meta": item.meta()}}
        )
        chunks: list[Document] = result["annotator"]["documents"]
        if not chunks:
            raise ItemConversionError(
                f"no text could be extracted from this {item.stream.mime_type} file "
                "(broken, empty or unsupported)"
            )
        return chunks


def build_embedding_pipeline(settings: Settings, store: DocumentStore) -> Pipeline:
    pipeline = Pipeline()
    pipeline.add_component("embedder", build_document_embedder(settings))
    pipeline.add_component("writer", DocumentWriter(store, policy=DuplicatePolicy.OVERWRITE))
    pipeline.connect("embedder.documents", "writer.documents")
    return pipeline
