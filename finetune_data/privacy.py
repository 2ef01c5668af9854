"""Retention and the right to be forgotten.

- `expire`: raw exchange and feedback text older than the retention period is scrubbed
  in place (the scheduler's `retention` job); counts and ratings stay for the reports.
- `forget`: one person's data goes everywhere it reached: their exchanges and feedback,
  the pairs made from them (and those pairs' verified answers in the document store, and
  their history), their corrections, and the datasets not yet trained on that hold those
  pairs. Datasets a model was already trained on are counted, so the operator knows to
  retrain. Both record a `PrivacyAction` with counts only, never the data or the id.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from finetune_data.curation import Indexer
from finetune_data.harvest import scrub_related
from finetune_data.scrub import Scrubber, shared_scrubber
from supportbot.db import session_scope
from supportbot.models import (
    Dataset,
    Exchange,
    Feedback,
    PairEvent,
    PairStatus,
    PrivacyAction,
    QAPair,
    QuestionRecord,
    QuestionState,
    TrainingRun,
    utcnow,
)

log = structlog.stdlib.get_logger(__name__)

SelectorKind = Literal["slack-user", "conversation", "email"]
BATCH = 500


@dataclass
class Selector:
    kind: SelectorKind
    value: str

    def __post_init__(self) -> None:
        self.value = self.value.strip()
        if not self.value:
            raise ValueError(f"an empty {self.kind} selects nothing")


@dataclass
class Counts:
    values: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, number: int = 1) -> None:
        self.values[name] = self.values.get(name, 0) + number


# --- retention -----------------------------------------------------------------------


def expire(
    engine: Engine, days: int, by: str = "retention", scrub: Scrubber | None = None
) -> dict[str, int]:
    """Scrub raw text older than `days` days; returns how many rows changed."""
    if days <= 0:
        return {}
    scrub = scrub or shared_scrubber()
    cutoff = utcnow() - timedelta(days=days)
    counts = Counts()
    while True:
        with session_scope(engine) as session:
            exchanges = session.exec(
                select(Exchange)
                .where(col(Exchange.created_at) < cutoff, col(Exchange.scrubbed_at).is_(None))
                .limit(BATCH)
            ).all()
            for exchange in exchanges:
                texts, exchange.context = scrub_related(
                    scrub, [exchange.question, exchange.answer, exchange.error], exchange.context
                )
                exchange.question, exchange.answer = texts[0] or "", texts[1] or ""
                exchange.error = texts[2]
                exchange.contact = None  # a hand-off's e-mail goes with the raw text
                exchange.scrubbed_at = utcnow()
            feedback = session.exec(
                select(Feedback)
                .where(col(Feedback.created_at) < cutoff, col(Feedback.scrubbed_at).is_(None))
                .limit(BATCH)
            ).all()
            for item in feedback:
                item.reason = scrub(item.reason) if item.reason else None
                item.correction = scrub(item.correction) if item.correction else None
                item.scrubbed_at = utcnow()
        counts.add("exchanges_scrubbed", len(exchanges))
        counts.add("feedback_scrubbed", len(feedback))
        if len(exchanges) < BATCH and len(feedback) < BATCH:
            break
    # A question's delivery record holds its raw text too; once it has ended and aged,
    # the exchange keeps the (scrubbed) record of it.
    with session_scope(engine) as session:
        ended = session.execute(
            sa.delete(QuestionRecord).where(
                col(QuestionRecord.received_at) < cutoff,
                col(QuestionRecord.state).not_in(QuestionState.open()),
            )
        )
    counts.add("question_records_deleted", ended.rowcount or 0)
    _record(engine, "retention", "age", counts, by)
    return counts.values


# --- forgetting ----------------------------------------------------------------------


def forget(
    engine: Engine, selector: Selector, by: str, index: Indexer | None = None
) -> dict[str, int]:
    """Remove one person's data everywhere it reached; returns what was removed."""
    counts = Counts()
    removed_pairs: list[QAPair] = []
    with session_scope(engine) as session:
        exchange_ids = _exchanges_of(session, selector)
        feedback = _feedback_of(session, selector, exchange_ids)
        pairs = _pairs_of(session, selector, exchange_ids, feedback)
        for pair in pairs:
            session.execute(sa.delete(PairEvent).where(col(PairEvent.pair_id) == pair.id))
            session.delete(pair)
            removed_pairs.append(pair)
        counts.add("pairs", len(pairs))
        counts.add("verified_answers", sum(p.status == PairStatus.APPROVED for p in pairs))
        counts.add("pair_merges", _unmerge(session, exchange_ids, {p.id for p in pairs}))
        for item in feedback:
            session.delete(item)
        counts.add("feedback", len(feedback))
        if exchange_ids:
            session.execute(
                sa.delete(QuestionRecord).where(col(QuestionRecord.exchange_id).in_(exchange_ids))
            )
            session.execute(sa.delete(Exchange).where(col(Exchange.id).in_(exchange_ids)))
        counts.add("exchanges", len(exchange_ids))
        counts.add("question_records", _forget_questions(session, selector))
        datasets, trained = _datasets_holding(session, {p.id for p in pairs if p.id})
        for dataset in datasets:
            shutil.rmtree(Path(dataset.train_path).parent, ignore_errors=True)
            session.delete(dataset)
        counts.add("datasets", len(datasets))
        counts.add("datasets_already_trained", len(trained))
    if index is not None:
        for pair in removed_pairs:
            if pair.status == PairStatus.APPROVED:
                index(pair, False)
    _record(engine, "forget", selector.kind, counts, by)
    log.info("privacy.forgotten", selector=selector.kind, **counts.values)
    return counts.values


def _exchanges_of(session: Session, selector: Selector) -> list[int]:
    if selector.kind == "slack-user":
        query = select(Exchange.id).where(Exchange.user_id == selector.value)
    elif selector.kind == "conversation":
        query = select(Exchange.id).where(Exchange.conversation_id == selector.value)
    else:
        needle = f"%{selector.value.casefold()}%"
        query = select(Exchange.id).where(
            sa.or_(
                sa.func.lower(Exchange.question).like(needle),
                sa.func.lower(Exchange.answer).like(needle),
                sa.func.lower(sa.cast(Exchange.context, sa.Text)).like(needle),
                sa.func.lower(Exchange.user_id) == selector.value.casefold(),
                sa.func.lower(Exchange.contact) == selector.value.casefold(),
            )
        )
    return [i for i in session.exec(query).all() if i is not None]


def _forget_questions(session: Session, selector: Selector) -> int:
    """Delivery records of the person's questions (the open ones too)."""
    if selector.kind == "slack-user":
        condition = QuestionRecord.user_id == selector.value
    elif selector.kind == "conversation":
        condition = QuestionRecord.conversation_id == selector.value
    else:
        condition = sa.func.lower(QuestionRecord.text).like(f"%{selector.value.casefold()}%")
    return session.execute(sa.delete(QuestionRecord).where(condition)).rowcount or 0


def _feedback_of(session: Session, selector: Selector, exchange_ids: list[int]) -> list[Feedback]:
    conditions = [col(Feedback.exchange_id).in_(exchange_ids)] if exchange_ids else []
    if selector.kind == "slack-user":
        conditions.append(Feedback.user_id == selector.value)
    elif selector.kind == "email":
        needle = f"%{selector.value.casefold()}%"
        conditions += [
            sa.func.lower(Feedback.reason).like(needle),
            sa.func.lower(Feedback.correction).like(needle),
        ]
    if not conditions:
        return []
    return list(session.exec(select(Feedback).where(sa.or_(*conditions))).all())


def _pairs_of(
    session: Session, selector: Selector, exchange_ids: list[int], feedback: list[Feedback]
) -> list[QAPair]:
    """Pairs made from the person's exchanges, or whose answer is their correction."""
    corrected = {f.exchange_id for f in feedback if f.correction}
    origins = set(exchange_ids) | corrected
    conditions = [col(QAPair.origin_exchange_id).in_(origins)] if origins else []
    if selector.kind == "email":
        needle = f"%{selector.value.casefold()}%"
        conditions += [
            sa.func.lower(QAPair.question).like(needle),
            sa.func.lower(QAPair.answer).like(needle),
            sa.func.lower(QAPair.comment).like(needle),
        ]
    if not conditions:
        return []
    return list(session.exec(select(QAPair).where(sa.or_(*conditions))).all())


def _unmerge(session: Session, exchange_ids: list[int], removed: set[int | None]) -> int:
    """Take the person's exchanges out of the pairs they were folded into."""
    gone = set(exchange_ids)
    changed = 0
    for pair in session.exec(select(QAPair)).all():
        if pair.id in removed or not gone & set(pair.merged_exchange_ids):
            continue
        pair.merged_exchange_ids = [i for i in pair.merged_exchange_ids if i not in gone]
        changed += 1
    return changed


def _datasets_holding(session: Session, pair_ids: set[int]) -> tuple[list[Dataset], list[Dataset]]:
    """(datasets not yet trained on, datasets already trained on) holding these pairs."""
    if not pair_ids:
        return [], []
    trained_ids = {r for r in session.exec(select(TrainingRun.dataset_id)).all() if r is not None}
    fresh, trained = [], []
    for dataset in session.exec(select(Dataset)).all():
        held = dataset.split.get("pair_ids", {})
        if not pair_ids & {i for ids in held.values() for i in ids}:
            continue
        (trained if dataset.id in trained_ids else fresh).append(dataset)
    return fresh, trained


def _record(engine: Engine, action: str, selector: str, counts: Counts, by: str) -> None:
    with session_scope(engine) as session:
        session.add(
            PrivacyAction(action=action, selector=selector, counts=counts.values, requested_by=by)
        )
