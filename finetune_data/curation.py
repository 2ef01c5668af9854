"""Curation: leads approve, edit or reject pairs; every decision records who and when.

Approving a pair also indexes it at once as a `verified_answer` document, so retrieval
can use it before any fine-tune. Rejecting or editing an approved pair updates the
index the same way. Who may curate is the front end's business (Slack and web check
the lead list; the CLI records the operator it runs as).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import structlog
from haystack import Document
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supportbot.db import session_scope
from supportbot.models import PairKind, PairStatus, QAPair, utcnow

log = structlog.stdlib.get_logger(__name__)

# Writes (or with None, removes) the verified-answer document of a pair.
Indexer = Callable[[QAPair, bool], None]


class CurationError(ValueError):
    """A decision that cannot be taken (unknown pair, empty answer…)."""


def list_pairs(
    engine: Engine,
    status: PairStatus | None = None,
    kind: PairKind | None = None,
    limit: int = 100,
) -> list[QAPair]:
    query = select(QAPair).order_by(col(QAPair.id))
    if status is not None:
        query = query.where(QAPair.status == status)
    if kind is not None:
        query = query.where(QAPair.kind == kind)
    with Session(engine) as session:
        return list(session.exec(query.limit(limit)).all())


def get_pair(engine: Engine, pair_id: int) -> QAPair:
    with Session(engine) as session:
        pair = session.get(QAPair, pair_id)
    if pair is None:
        raise CurationError(f"no pair {pair_id}")
    return pair


def decide(
    engine: Engine,
    pair_id: int,
    status: PairStatus,
    by: str,
    index: Indexer | None = None,
    question: str | None = None,
    answer: str | None = None,
) -> QAPair:
    """Approve or reject a pair, optionally with an edited question or answer."""
    with session_scope(engine) as session:
        pair = session.get(QAPair, pair_id)
        if pair is None:
            raise CurationError(f"no pair {pair_id}")
        _apply_edit(pair, by, question, answer)
        if status == PairStatus.APPROVED and not pair.answer.strip():
            raise CurationError(
                f"pair {pair_id} has no answer yet (a knowledge gap): give one to approve it"
            )
        pair.status = status
        pair.decided_by = by
        pair.decided_at = utcnow()
        pair.updated_at = pair.decided_at
        if status == PairStatus.APPROVED:
            pair.kind = PairKind.ANSWER  # an answered gap is an answer now
        session.flush()
        session.expunge(pair)
    if index is not None:
        index(pair, status == PairStatus.APPROVED)
    log.info("pair.decided", pair_id=pair_id, status=status.value, by=by)
    return pair


def edit(
    engine: Engine,
    pair_id: int,
    by: str,
    index: Indexer | None = None,
    question: str | None = None,
    answer: str | None = None,
) -> QAPair:
    with session_scope(engine) as session:
        pair = session.get(QAPair, pair_id)
        if pair is None:
            raise CurationError(f"no pair {pair_id}")
        _apply_edit(pair, by, question, answer)
        session.flush()
        session.expunge(pair)
    if index is not None and pair.status == PairStatus.APPROVED:
        index(pair, True)
    return pair


def _apply_edit(pair: QAPair, by: str, question: str | None, answer: str | None) -> None:
    changed = False
    for field, value in (("question", question), ("answer", answer)):
        if value is None:
            continue
        if not value.strip():
            raise CurationError(f"the {field} cannot be empty")
        if value.strip() != getattr(pair, field):
            setattr(pair, field, value.strip())
            changed = True
    if changed:
        pair.edited_by = by
        pair.updated_at = utcnow()


def verified_answer_document(pair: QAPair) -> Document:
    return Document(
        id=f"verified-answer-{pair.id}",
        content=f"Q: {pair.question}\nA: {pair.answer}",
        meta={
            "source": "verified-answers",
            "source_id": f"verified:{pair.id}",
            "content_hash": hashlib.sha256(f"{pair.question}\n{pair.answer}".encode()).hexdigest(),
            "kind": "verified_answer",
            # A pair answered for one product is found by searches scoped to it.
            "product": scoped_product(pair.scope),
            "tags": [],
            "title": pair.question[:200],
            "section": "Verified answer",
            "url": None,
            "published_at": pair.decided_at.isoformat() if pair.decided_at else None,
            "chunk_index": 0,
        },
    )


def scoped_product(scope_label: str | None) -> str | None:
    """The single product of a stored scope label ("product: Galaxy S10 · kind: manual")."""
    match = re.search(r"(?:^|· )product: ([^·]+?)(?: ·|$)", scope_label or "")
    products = match.group(1).split(", ") if match else []
    return products[0] if len(products) == 1 else None


def store_indexer(settings: object, store: Any = None) -> Indexer:
    """Keeps verified answers in the document store (`store`, else the configured one),
    embedded like any chunk."""
    from haystack.document_stores.types import DuplicatePolicy

    from knowledge.embedders import build_document_embedder
    from knowledge.stores import open_document_store, persist

    store = store if store is not None else open_document_store(settings)  # type: ignore[arg-type]
    embedder = build_document_embedder(settings)  # type: ignore[arg-type]
    embedder.warm_up()

    def index(pair: QAPair, present: bool) -> None:
        document = verified_answer_document(pair)
        if present:
            embedded = embedder.run([document])["documents"]
            store.write_documents(embedded, policy=DuplicatePolicy.OVERWRITE)
        else:
            store.delete_documents([document.id])
        persist(store)

    return index
