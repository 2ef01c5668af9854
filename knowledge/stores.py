"""Document stores behind settings: embedded (`memory`) or Weaviate.

No other code needs to know which one is live: both satisfy Haystack's DocumentStore
protocol, and `persist()` is a no-op for stores that persist by themselves.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from haystack import Document
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack.document_stores.types import DocumentStore
from haystack.utils import Secret
from haystack.utils.filters import document_matches_filter
from scipy.special import expit

from knowledge.documents import META_FIELDS, MetaField
from supportbot.settings import DocumentStoreKind, Settings

# BM25+ scored best of Haystack's three BM25 variants on the e-manual dev set
# (benchmarks/retrieval.py); it also never drops a document for a common term.
# Parameters as in Haystack's BM25Plus, which our vectorised index reproduces.
BM25_ALGORITHM = "BM25Plus"
BM25_K1 = 1.5
BM25_B = 0.75
BM25_DELTA = 1.0
BM25_SCALING_FACTOR = 8  # as Haystack scales BM25 scores into (0, 1)
WORD_PATTERN = r"(?u)\b\w+\b"

WEAVIATE_COLLECTION = "SupportbotChunk"


def _weaviate_property(field: MetaField) -> dict[str, Any]:
    exact = {"tokenization": "field"} if field.exact else {}
    return {"name": field.name, "dataType": [field.type], **exact}


# Explicit schema, so Weaviate never guesses types: Haystack's own fields, then ours.
WEAVIATE_PROPERTIES: list[dict[str, Any]] = [
    {"name": "_original_id", "dataType": ["text"]},
    {"name": "content", "dataType": ["text"]},
    {"name": "blob_data", "dataType": ["blob"]},
    {"name": "blob_mime_type", "dataType": ["text"]},
    {"name": "score", "dataType": ["number"]},
] + [
    {"name": field.name, "dataType": [field.type]}
    | ({"tokenization": "field"} if field.exact else {})
    for field in META_FIELDS
]


class _SearchIndex:
    """Vectorised search structures over a snapshot of the store's documents.

    Haystack's in-memory store scores BM25 in pure Python and compares embeddings one
    document at a time: about 0.2-0.4 s per query at 10,000 chunks. A bm25s sparse
    index and one normalised embedding matrix answer the same queries in milliseconds.
    """

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self.positions = {doc.id: i for i, doc in enumerate(documents)}
        tokenized = _tokenize([doc.content or "" for doc in documents])
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


def _tokenize(texts: list[str]) -> list[list[str]]:
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


def _top(scores: np.ndarray, top_k: int) -> np.ndarray:
    if top_k >= len(scores):
        return np.argsort(-scores, kind="stable")
    candidates = np.argpartition(-scores, top_k)[:top_k]
    return candidates[np.argsort(-scores[candidates], kind="stable")]


def _matches(filters: dict[str, Any], document: Document) -> bool:
    """Haystack's filter semantics, plus list-valued metadata (``tags``) matching the way
    Weaviate matches ``text[]``: ``==`` means "contains", ``in`` means "shares a value"."""
    operator = filters["operator"]
    if "conditions" in filters:
        results = [_matches(condition, document) for condition in filters["conditions"]]
        if operator == "OR":
            return any(results)
        return not all(results) if operator == "NOT" else all(results)
    field = filters["field"]
    value = document.meta.get(field.removeprefix("meta.")) if field.startswith("meta.") else None
    if isinstance(value, list) and operator in ("==", "!=", "in", "not in"):
        wanted = filters["value"] if operator in ("in", "not in") else [filters["value"]]
        found = any(item in value for item in wanted)
        return found if operator in ("==", "in") else not found
    return document_matches_filter(filters, document)


class PersistentInMemoryDocumentStore(InMemoryDocumentStore):
    """Haystack's in-memory store, saved to one JSON file so it survives restarts, with
    vectorised BM25 and embedding search.

    Writes go to memory; `persist()` (called by sync after each source) replaces the
    file atomically, so a crash mid-write never leaves a corrupt store behind. Search
    indexes are rebuilt lazily on the first query after a change.
    """

    def __init__(self, path: Path, **kwargs: Any) -> None:
        super().__init__(bm25_algorithm=BM25_ALGORITHM, **kwargs)
        self.path = path
        self._index: _SearchIndex | None = None
        self._index_lock = threading.Lock()
        self._refresh_lock = threading.RLock()
        self._dirty = False  # what is in memory is what is on disk
        self._stamp: tuple[int, int] | None = None  # the file as last read or written
        self.refresh()

    # --- other processes' writes ---------------------------------------------------------

    def refresh(self) -> None:
        """Reload the file if another process (the scheduler's sync, a CLI import)
        replaced it since we read or wrote it. Unsaved changes of our own win."""
        with self._refresh_lock:
            stamp = _file_stamp(self.path)
            if self._dirty or stamp == self._stamp:
                return
            documents = []
            if stamp is not None:
                with self.path.open(encoding="utf-8") as handle:
                    documents = [Document.from_dict(d) for d in json.load(handle)["documents"]]
            if self.storage:
                super().delete_documents(list(self.storage))
            if documents:
                super().write_documents(documents)
            self._index = None
            self._stamp = stamp

    # --- change tracking -------------------------------------------------------------

    def write_documents(self, documents: list[Document], policy: Any = None) -> int:
        self.refresh()  # write on top of the latest file, not a stale copy
        written = (
            super().write_documents(documents)
            if policy is None
            else super().write_documents(documents, policy=policy)
        )
        self._index = None
        self._dirty = True
        return written

    def delete_documents(self, document_ids: list[str]) -> None:
        self.refresh()
        super().delete_documents(document_ids)
        self._index = None
        self._dirty = True

    def count_documents(self) -> int:
        self.refresh()
        return super().count_documents()

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        self.refresh()
        if not filters:
            return super().filter_documents(filters)
        InMemoryDocumentStore._validate_filters(filters)
        docs = [doc for doc in self.storage.values() if _matches(filters, doc)]
        if not self.return_embedding:
            docs = [dataclasses.replace(doc, embedding=None) for doc in docs]
        return docs

    def _search_index(self) -> _SearchIndex:
        self.refresh()  # one stat() per query; a reload only after another process wrote
        with self._index_lock:
            if self._index is None:
                self._index = _SearchIndex(list(self.storage.values()))
            return self._index

    def _candidates(self, index: _SearchIndex, filters: dict[str, Any] | None) -> Any:
        if not filters:
            return None
        if "operator" not in filters:
            raise ValueError("Invalid filter syntax: filters need an `operator`.")
        return index.mask(self.filter_documents(filters))

    def _result(self, document: Document, score: float, keep_embedding: bool) -> Document:
        # A shallow copy: serialising a candidate (embedding included) costs ~0.5 ms, and
        # a query handles two hundred of them.
        return dataclasses.replace(
            document,
            score=score,
            meta=dict(document.meta),
            embedding=document.embedding if keep_embedding else None,
        )

    # --- search ----------------------------------------------------------------------

    def bm25_retrieval(
        self,
        query: str,
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        scale_score: bool = False,
    ) -> list[Document]:
        if not query:
            raise ValueError("Query should be a non-empty string")
        index = self._search_index()
        if not index.documents:
            return []
        # Distinct terms: a word repeated in the question counts once, as in Haystack.
        tokens = sorted({t for t in _tokenize([query])[0] if t in index.postings})
        if not tokens:
            return []
        mask = self._candidates(index, filters)
        if mask is None:
            scores = (1 + BM25_K1) * np.asarray(index.bm25.get_scores(tokens), dtype=np.float32)
            for token in tokens:
                scores[index.postings[token]] += BM25_DELTA * index.idf[token]
        else:
            scores = self._scoped_bm25(index, tokens, mask)
        results = []
        for position in _top(scores, top_k):
            score = float(scores[position])
            if score <= 0.0:  # no query term in the document
                break
            if scale_score:
                score = float(expit(score / BM25_SCALING_FACTOR))
            results.append(self._result(index.documents[position], score, self.return_embedding))
        return results

    def _scoped_bm25(self, index: _SearchIndex, tokens: list[str], mask: np.ndarray) -> Any:
        """BM25+ as if the filtered documents were the whole collection.

        Term weights (IDF) come from the documents in scope: inside one product's
        manual, the product's own name is on every page and says nothing, while
        corpus-wide it looks rare and would outweigh the words that matter.
        """
        in_scope = float(mask.sum())
        scores = np.zeros(len(index.documents), dtype=np.float32)
        for token in tokens:
            postings = index.postings[token]
            frequency = float(mask[postings].sum())
            if not frequency:
                continue
            idf = math.log(1 + (in_scope - frequency + 0.5) / (frequency + 0.5))
            weight = idf / index.idf[token]  # bm25s scored with the corpus-wide IDF
            term = np.asarray(index.bm25.get_scores([token]), dtype=np.float32)
            scores += (1 + BM25_K1) * weight * term
            scores[postings] += BM25_DELTA * idf
        return scores * mask

    def embedding_retrieval(
        self,
        query_embedding: list[float],
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        scale_score: bool = False,
        return_embedding: bool | None = False,
    ) -> list[Document]:
        index = self._search_index()
        if not index.documents or index.matrix.shape[1] == 0:
            return []
        query = np.asarray(query_embedding, dtype=np.float32)
        if query.shape[0] != index.matrix.shape[1]:
            raise ValueError(
                f"query embedding has {query.shape[0]} dimensions, "
                f"the store's embeddings {index.matrix.shape[1]}"
            )
        scores = index.matrix @ query
        allowed = index.has_embedding.copy()
        mask = self._candidates(index, filters)
        if mask is not None:
            allowed &= mask.astype(bool)
        scores = np.where(allowed, scores, -np.inf)
        results = []
        for position in _top(scores, min(top_k, int(allowed.sum()))):
            score = float(scores[position])
            if scale_score:
                score = (score + 1) / 2  # cosine/dot of normalised vectors → [0, 1]
            results.append(self._result(index.documents[position], score, bool(return_embedding)))
        return results

    def persist(self) -> None:
        """Write the store to disk if it changed since it was loaded or last persisted."""
        if not self._dirty and self.path.is_file():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        documents = [doc.to_dict(flatten=False) for doc in self.storage.values()]
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".store-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"format": 1, "documents": documents}, handle)
            os.replace(temporary, self.path)
            self._dirty = False
            self._stamp = _file_stamp(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def memory_store_path(settings: Settings) -> Path:
    return settings.resolved_data_dir / "document_store.json"


def open_document_store(settings: Settings) -> DocumentStore:
    """The document store the settings choose."""
    if settings.document_store is DocumentStoreKind.WEAVIATE:
        return open_weaviate_store(
            settings.weaviate_url,
            settings.weaviate_api_key.get_secret_value() if settings.weaviate_api_key else None,
        )
    return PersistentInMemoryDocumentStore(memory_store_path(settings))


def open_weaviate_store(
    url: str | None, api_key: str | None = None, collection: str = WEAVIATE_COLLECTION
) -> DocumentStore:
    if not url:
        raise ValueError("SUPPORTBOT_WEAVIATE_URL must be set when the document store is weaviate")
    # The Weaviate client (gRPC and all, ~0.7 s) loads only when that store is chosen.
    from haystack_integrations.document_stores.weaviate import (
        AuthApiKey,
        WeaviateDocumentStore,
    )

    return WeaviateDocumentStore(
        url=url,
        auth_client_secret=AuthApiKey(api_key=Secret.from_token(api_key)) if api_key else None,
        collection_settings={
            "class": collection,
            "invertedIndexConfig": {"indexNullState": True, "indexPropertyLength": True},
            "properties": WEAVIATE_PROPERTIES,
        },
    )


def persist(store: DocumentStore) -> None:
    """Flush the store to durable storage if it needs telling."""
    save = getattr(store, "persist", None)
    if callable(save):
        save()
