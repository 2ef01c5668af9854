"""Curation: leads approve, edit or reject pairs; every decision records who and when.

Approving a pair also indexes it at once as a `verified_answer` document, so retrieval
can use it before any fine-tune. Rejecting or editing an approved pair updates the
index the same way. Who may curate is the front end's business (Slack and web check
the lead list; the CLI records the operator it runs as).

This is the privacy boundary for what leads share: text a lead types is scrubbed like
harvested text, and a pair is not approved while the scrubber still finds personal data
in it (the lead is told which kinds, and edits). Approving a pair whose question nearly
duplicates an approved pair's but whose answer contradicts it is refused until the lead
reconciles them or names the pair it replaces. Every decision and edit is appended to
the pair's history (`pair_event`).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from haystack import Document
from haystack.document_stores.types import DocumentStore
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from finetune_data.conflicts import ConflictCheck, conflict_check
from finetune_data.history import record
from finetune_data.scrub import Scrubber, shared_scrubber, unscrubbed
from knowledge.components.embedders import embed_with
from knowledge.scope import Scope
from knowledge.verified_answers import VerifiedAnswers
from knowledge.verified_answers import verified_answer_document as knowledge_document
from supportbot.db import session_scope
from supportbot.models import PairKind, PairStatus, QAPair, utcnow
from supportbot.settings import Settings

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
    *,
    conflicts: ConflictCheck | None = None,
    replaces: int | None = None,
    scrub: Scrubber | None = None,
) -> QAPair:
    """Approve or reject a pair, optionally with an edited question or answer.

    Approval is refused while personal data remains in the pair, and, with `conflicts`,
    while an approved near-duplicate says otherwise, unless it is the pair `replaces`
    names, which is then rejected in the same transaction."""
    scrub = scrub or shared_scrubber()
    retired: QAPair | None = None
    with session_scope(engine) as session:
        pair = session.get(QAPair, pair_id)
        if pair is None:
            raise CurationError(f"no pair {pair_id}")
        changes = _apply_edit(pair, by, question, answer, scrub)
        if status == PairStatus.APPROVED:
            _check_shareable(pair, scrub)
            if conflicts is not None:
                retired = _check_conflicts(session, pair, conflicts, replaces)
        pair.status = status
        pair.decided_by = by
        pair.decided_at = utcnow()
        pair.updated_at = pair.decided_at
        if status == PairStatus.APPROVED:
            pair.kind = PairKind.ANSWER  # an answered gap is an answer now
        record(session, pair_id, status.value, by, changes)
        if retired is not None:
            retired.status = PairStatus.REJECTED
            retired.decided_by, retired.decided_at = by, pair.decided_at
            record(session, retired.id or 0, "rejected", by, note=f"replaced by pair {pair_id}")
        session.flush()
        session.expunge(pair)
        if retired is not None:
            session.expunge(retired)
    if index is not None:
        index(pair, status == PairStatus.APPROVED)
        if retired is not None:
            index(retired, False)
    log.info("pair.decided", pair_id=pair_id, status=status.value, by=by)
    return pair


def edit(
    engine: Engine,
    pair_id: int,
    by: str,
    index: Indexer | None = None,
    question: str | None = None,
    answer: str | None = None,
    *,
    scrub: Scrubber | None = None,
) -> QAPair:
    scrub = scrub or shared_scrubber()
    with session_scope(engine) as session:
        pair = session.get(QAPair, pair_id)
        if pair is None:
            raise CurationError(f"no pair {pair_id}")
        changes = _apply_edit(pair, by, question, answer, scrub)
        if changes:
            record(session, pair_id, "edited", by, changes)
        session.flush()
        session.expunge(pair)
    if index is not None and pair.status == PairStatus.APPROVED:
        index(pair, True)
    return pair


def mark(
    engine: Engine, pair_id: int, by: str, test: bool | None = None, critical: bool | None = None
) -> QAPair:
    """Put a pair in (or take it out of) the frozen evaluation set, or mark it critical:
    a candidate model that gets a critical pair wrong is never promoted."""
    with session_scope(engine) as session:
        pair = session.get(QAPair, pair_id)
        if pair is None:
            raise CurationError(f"no pair {pair_id}")
        changes: dict[str, list[object]] = {}
        for field, value in (("test", test), ("critical", critical)):
            if value is not None and getattr(pair, field) != value:
                changes[field] = [getattr(pair, field), value]
                setattr(pair, field, value)
        if changes:
            pair.updated_at = utcnow()
            record(session, pair_id, "marked", by, changes)
        session.flush()
        session.expunge(pair)
    return pair


def _apply_edit(
    pair: QAPair, by: str, question: str | None, answer: str | None, scrub: Scrubber
) -> dict[str, list[object]]:
    changes: dict[str, list[object]] = {}
    for field, value in (("question", question), ("answer", answer)):
        if value is None:
            continue
        if not value.strip():
            raise CurationError(f"the {field} cannot be empty")
        # What a lead types crosses the same boundary as what customers typed.
        cleaned = scrub(value.strip())
        if cleaned != getattr(pair, field):
            changes[field] = [getattr(pair, field), cleaned]
            setattr(pair, field, cleaned)
    if changes:
        pair.edited_by = by
        pair.updated_at = utcnow()
    return changes


def _check_shareable(pair: QAPair, scrub: Scrubber) -> None:
    if not pair.answer.strip():
        raise CurationError(
            f"pair {pair.id} has no answer yet (a knowledge gap): give one to approve it"
        )
    for field in ("question", "answer"):
        kinds = unscrubbed(getattr(pair, field), scrub)
        if kinds:
            raise CurationError(
                f"pair {pair.id} still contains personal data in its {field} "
                f"({', '.join(kinds)}): edit it out before approving"
            )


def _check_conflicts(
    session: Session, pair: QAPair, conflicts: ConflictCheck, replaces: int | None
) -> QAPair | None:
    approved = session.exec(
        select(QAPair).where(QAPair.status == PairStatus.APPROVED, QAPair.id != pair.id)
    ).all()
    found = conflicts(pair, list(approved))
    retired = next((c.pair for c in found if c.pair.id == replaces), None)
    others = [c for c in found if c.pair.id != replaces]
    if others:
        first = others[0]
        raise CurationError(
            f"pair {pair.id} contradicts approved pair {first.pair.id} "
            f'("{first.pair.question[:80]}": {first.reason}): edit one so they agree, '
            f"or approve it as replacing pair {first.pair.id}"
        )
    if replaces is not None and retired is None:
        retired = session.get(QAPair, replaces)
        if retired is None or retired.status != PairStatus.APPROVED:
            raise CurationError(f"pair {replaces} is not an approved pair to replace")
    return retired


def verified_answer_document(pair: QAPair) -> Document:
    """The pair as the knowledge base stores it (for the one product it was answered for)."""
    return knowledge_document(
        pair.id,
        pair.question,
        pair.answer,
        Scope.from_stored(pair.scope).product,
        pair.decided_at,
    )


class VerifiedAnswerIndex:
    """The privacy boundary in front of the knowledge base's verified answers: what an
    approval shares is scrubbed first. Its embedder also finds approved pairs an
    approval would contradict."""

    def __init__(self, answers: VerifiedAnswers) -> None:
        self.answers = answers
        self.conflicts: ConflictCheck = conflict_check(embed_with(answers.embedder))

    def __call__(self, pair: QAPair, present: bool) -> None:
        if not present:
            self.answers.withdraw(verified_answer_document(pair).id)
            return
        # Only scrubbed, lead-approved text is shared; scrubbing again costs little
        # and covers pairs approved before the scrubber knew a kind of personal data.
        scrub = shared_scrubber()
        shared = QAPair(
            **{**pair.model_dump(), "question": scrub(pair.question), "answer": scrub(pair.answer)}
        )
        self.answers.put(verified_answer_document(shared))


def store_indexer(settings: Settings, store: DocumentStore | None = None) -> VerifiedAnswerIndex:
    """The verified-answer index of `store`, else of the configured store."""
    return VerifiedAnswerIndex(VerifiedAnswers(settings, store))
