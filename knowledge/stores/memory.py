"""The embedded store: Haystack's in-memory store persisted to one JSON file."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from haystack import Document
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack.utils.filters import document_matches_filter
from scipy.special import expit

from knowledge.stores.search_index import (
    BM25_ALGORITHM,
    BM25_DELTA,
    BM25_K1,
    BM25_SCALING_FACTOR,
    SearchIndex,
    tokenize,
    top_indices,
)


def _matches(filters: dict[str, Any], document: Document) -> bool:
    """Haystack's filter semantics, plus list-valued metadata (``tags``) matching the way
    Weaviate matches ``text[]``: ``==`` means "contains", ``in`` means "shares a value"."""
    complete = "conditions" in filters or {"field", "value"} <= filters.keys()
    if "operator" not in filters or not complete:
        return document_matches_filter(filters, document)  # raises Haystack's FilterError
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
        self._index: SearchIndex | None = None
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

    def update_by_filter(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        """Haystack's version edits memory behind the search index and the file."""
        self.refresh()
        InMemoryDocumentStore._validate_filters(filters)
        matching = [doc for doc in self.storage.values() if _matches(filters, doc)]
        for document in matching:
            document.meta.update(meta)
        if matching:
            self._index = None
            self._dirty = True
        return len(matching)

    def delete_by_filter(self, filters: dict[str, Any]) -> int:
        """With our filter semantics (list-valued metadata), as `filter_documents` has."""
        matching = [document.id for document in self.filter_documents(filters)]
        self.delete_documents(matching)
        return len(matching)

    def count_documents_by_filter(self, filters: dict[str, Any]) -> int:
        return len(self.filter_documents(filters))

    def delete_all_documents(self) -> None:
        self.refresh()
        super().delete_all_documents()
        self._index = None
        self._dirty = True

    def count_documents(self) -> int:
        self.refresh()
        return super().count_documents()

    def source_chunks(
        self, source: str, fields: tuple[str, ...]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(document id, metadata) of each chunk of a source, without copying them."""
        self.refresh()
        for document in list(self.storage.values()):
            if document.meta.get("source") == source:
                yield document.id, document.meta

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        self.refresh()
        if not filters:
            return super().filter_documents(filters)
        InMemoryDocumentStore._validate_filters(filters)
        docs = [doc for doc in self.storage.values() if _matches(filters, doc)]
        if not self.return_embedding:
            docs = [dataclasses.replace(doc, embedding=None) for doc in docs]
        return docs

    def _search_index(self) -> SearchIndex:
        self.refresh()  # one stat() per query; a reload only after another process wrote
        with self._index_lock:
            if self._index is None:
                self._index = SearchIndex(list(self.storage.values()))
            return self._index

    def _candidates(self, index: SearchIndex, filters: dict[str, Any] | None) -> Any:
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
        tokens = sorted({t for t in tokenize([query])[0] if t in index.postings})
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
        for position in top_indices(scores, top_k):
            score = float(scores[position])
            if score <= 0.0:  # no query term in the document
                break
            if scale_score:
                score = float(expit(score / BM25_SCALING_FACTOR))
            results.append(self._result(index.documents[position], score, self.return_embedding))
        return results

    def _scoped_bm25(self, index: SearchIndex, tokens: list[str], mask: np.ndarray) -> Any:
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
        for position in top_indices(scores, min(top_k, int(allowed.sum()))):
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
