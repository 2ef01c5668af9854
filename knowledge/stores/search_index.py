"""Vectorised BM25+ and embedding search over a snapshot of the embedded store."""

from __future__ import annotations

import math

import bm25s
import numpy as np
from haystack import Document

# BM25+ scored best of Haystack's three BM25 variants on the e-manual dev set
# (benchmarks/retrieval.py); it also never drops a document for a common term.
# Parameters as in Haystack's BM25Plus, which our vectorised index reproduces.
BM25_ALGORITHM = "BM25Plus"
BM25_K1 = 1.5
BM25_B = 0.75
BM25_DELTA = 1.0
BM25_SCALING_FACTOR = 8  # as Haystack scales BM25 scores into (0, 1)
WORD_PATTERN = r"(?u)\b\w+\b"
# How many times a chunk's section path counts in its BM25 text (a field weight, as
# BM25F's): every chunk of a long section carries the heading it sits under, not only
# the first. Measured on the e-manual dev questions (benchmarks/retrieval.py).
SECTION_WEIGHT = 2


class SearchIndex:
    """Vectorised search structures over a snapshot of the store's documents.

    Haystack's in-memory store scores BM25 in pure Python and compares embeddings one
    document at a time: about 0.2-0.4 s per query at 10,000 chunks. A bm25s sparse
    index and one normalised embedding matrix answer the same queries in milliseconds.
    """

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self.positions = {doc.id: i for i, doc in enumerate(documents)}
        tokenized = tokenize([bm25_text(doc) for doc in documents])
        # BM25+ as Haystack defines it: for each distinct query term in the document,
        # IDF x (tf(k1+1)/(tf + k1(1-b+b·len/avglen)) + delta), with Lucene's IDF. bm25s
        # computes IDF x tf/(tf + ...); we scale it by (k1+1) and the postings below add
        # delta x IDF.
        self.bm25 = bm25s.BM25(method="lucene", idf_method="lucene", k1=BM25_K1, b=BM25_B)
        if documents:
            self.bm25.index(tokenized, show_progress=False)
        postings: dict[str, list[int]] = {}
        for position, tokens in enumerate(tokenized):
            for token in set(tokens):
                postings.setdefault(token, []).append(position)
        total = len(documents)
        self.postings = {token: np.array(ids, dtype=np.int32) for token, ids in postings.items()}
        self.idf = {
            token: math.log(1 + (total - len(ids) + 0.5) / (len(ids) + 0.5))
            for token, ids in postings.items()
        }
        with_embedding = [doc.embedding is not None for doc in documents]
        self.has_embedding = np.array(with_embedding, dtype=bool)
        dimension = next((len(doc.embedding) for doc in documents if doc.embedding), 0)
        self.matrix = np.zeros((len(documents), dimension), dtype=np.float32)
        for i, doc in enumerate(documents):
            if doc.embedding is not None:
                self.matrix[i] = doc.embedding

    def mask(self, allowed: list[Document] | None) -> np.ndarray | None:
        if allowed is None:
            return None
        mask = np.zeros(len(self.documents), dtype=np.float32)
        for doc in allowed:
            position = self.positions.get(doc.id)
            if position is not None:
                mask[position] = 1.0
        return mask


def bm25_text(document: Document) -> str:
    """What BM25 indexes for a chunk: its section path `SECTION_WEIGHT` times, then its
    text without the heading line the splitter kept (the path already says it)."""
    content = document.content or ""
    section = document.meta.get("section")
    if not section:
        return content
    lines = content.split("\n", 1)
    if lines[0].lstrip().startswith("#"):
        content = lines[1] if len(lines) > 1 else ""
    return "\n".join([*([section] * SECTION_WEIGHT), content])


def tokenize(texts: list[str]) -> list[list[str]]:
    # Haystack's BM25 tokenisation (lower-cased words), no stop-word list: support
    # questions hinge on short words like "on", "off", "up".
    return bm25s.tokenize(
        texts,
        lower=True,
        token_pattern=WORD_PATTERN,
        stopwords=None,
        return_ids=False,
        show_progress=False,
    )


def top_indices(scores: np.ndarray, top_k: int) -> np.ndarray:
    if top_k >= len(scores):
        return np.argsort(-scores, kind="stable")
    candidates = np.argpartition(-scores, top_k)[:top_k]
    return candidates[np.argsort(-scores[candidates], kind="stable")]
