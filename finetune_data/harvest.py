"""Harvest: rated exchanges become candidate Q&A pairs and knowledge gaps.

For each exchange rated since the last harvest:
- a correction (a lead's ranks above a user's) → a candidate with the corrected answer;
- more 👍 than 👎 on a real answer → a candidate with the bot's answer;
- 👎 without a correction → a knowledge gap for the leads ("needs an answer").

Text is scrubbed of personal data first: the question, the answer, comments and the
prompt's sources the pair keeps (which may quote verified answers). A correction gets
citation markers for the sources that state it (citations.py), so training teaches
citing; a 👍 answer keeps its own, and remembers that it is the live model's output.

A question that is a near-duplicate of an existing open pair (cosine similarity of
embeddings ≥ MERGE_SIMILARITY) is folded into it instead of becoming a new pair. One
pair per exchange, enforced by the database, and a watermark on feedback ids make
harvesting idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from finetune_data.citations import add_citations
from finetune_data.history import record
from finetune_data.scrub import Scrubber, shared_scrubber
from knowledge.components.embedders import Embed
from supportbot.db import session_scope
from supportbot.models import (
    Exchange,
    Feedback,
    HarvestRun,
    PairKind,
    PairOrigin,
    PairStatus,
    QAPair,
    Rating,
    utcnow,
)

log = structlog.stdlib.get_logger(__name__)

MERGE_SIMILARITY = 0.92


@dataclass
class HarvestReport:
    candidates: int = 0
    gaps: int = 0
    merged: int = 0
    skipped: int = 0
    last_feedback_id: int = 0


@dataclass
class Verdict:
    kind: PairKind
    origin: PairOrigin
    answer: str
    comment: str | None


def judge(exchange: Exchange, ratings: Sequence[Feedback]) -> Verdict | None:
    """What an exchange's ratings make of it; None when there is nothing to learn."""
    corrections = [f for f in ratings if f.correction]
    comments = "; ".join(f.reason for f in ratings if f.reason) or None
    if corrections:
        best = max(corrections, key=lambda f: (f.from_lead, f.id or 0))
        origin = PairOrigin.LEAD_CORRECTION if best.from_lead else PairOrigin.USER_CORRECTION
        return Verdict(PairKind.ANSWER, origin, best.correction or "", comments)
    ups = sum(1 for f in ratings if f.rating == Rating.UP)
    downs = sum(1 for f in ratings if f.rating == Rating.DOWN)
    if ups > downs and not exchange.abstained and exchange.answer_mode == "generated":
        return Verdict(PairKind.ANSWER, PairOrigin.THUMBS_UP, exchange.answer, comments)
    if downs > 0:
        return Verdict(PairKind.GAP, PairOrigin.THUMBS_DOWN, "", comments)
    return None


def harvest(engine: Engine, embed: Embed, scrub: Scrubber | None = None) -> HarvestReport:
    scrub = scrub or shared_scrubber()
    report = HarvestReport()
    with Session(engine) as session:
        since = session.exec(select(func.max(HarvestRun.last_feedback_id))).one() or 0
        newest = session.exec(select(func.max(Feedback.id))).one() or 0
        rated_ids = session.exec(
            select(Feedback.exchange_id).where(col(Feedback.id) > since).distinct()
        ).all()
        open_pairs = session.exec(select(QAPair).where(QAPair.status != PairStatus.REJECTED)).all()
    report.last_feedback_id = max(since, newest)

    pair_questions = [p.question for p in open_pairs]
    pair_vectors = embed(pair_questions) if pair_questions else np.zeros((0, 1), np.float32)
    for exchange_id in sorted(rated_ids):
        outcome = _harvest_one(engine, exchange_id, embed, scrub, open_pairs, pair_vectors)
        if outcome is None:
            report.skipped += 1
            continue
        kind, pair, vector = outcome
        if kind == "merged":
            report.merged += 1
            continue
        open_pairs = [*open_pairs, pair]
        pair_vectors = vector if pair_vectors.shape[0] == 0 else np.vstack([pair_vectors, vector])
        if pair.kind == PairKind.GAP:
            report.gaps += 1
        else:
            report.candidates += 1

    with session_scope(engine) as session:
        session.add(
            HarvestRun(
                last_feedback_id=report.last_feedback_id,
                candidates=report.candidates,
                gaps=report.gaps,
                merged=report.merged,
                skipped=report.skipped,
            )
        )
    log.info("harvest.done", **report.__dict__)
    return report


def _harvest_one(
    engine: Engine,
    exchange_id: int,
    embed: Embed,
    scrub: Scrubber,
    open_pairs: Sequence[QAPair],
    pair_vectors: np.ndarray,
) -> tuple[str, QAPair, np.ndarray] | None:
    with session_scope(engine) as session:
        exchange = session.get(Exchange, exchange_id)
        if exchange is None:
            return None
        ratings = session.exec(select(Feedback).where(Feedback.exchange_id == exchange_id)).all()
        verdict = judge(exchange, ratings)
        existing = session.exec(
            select(QAPair).where(QAPair.origin_exchange_id == exchange_id)
        ).first()
        already_merged = any(exchange_id in p.merged_exchange_ids for p in open_pairs)
        if verdict is None or already_merged:
            return None
        texts, context = scrub_related(
            scrub,
            [exchange.question, verdict.answer, exchange.answer, verdict.comment],
            exchange.context,
        )
        question, answer, bot_answer, comment = texts
        answer = add_citations(answer or "", context)
        own_output = verdict.origin == PairOrigin.THUMBS_UP
        if existing is not None:
            # Rated again since: a still-open candidate takes the better verdict.
            if existing.status == PairStatus.CANDIDATE and _ranks_above(verdict, existing):
                existing.kind, existing.origin = verdict.kind, verdict.origin
                existing.answer, existing.comment = answer, comment
                existing.reference_model = exchange.model_id if own_output else None
                existing.updated_at = utcnow()
                record(session, existing.id or 0, "re-rated", "harvest", note=verdict.origin)
            return None
        vector = embed([question])
        twin = _near_duplicate(vector, pair_vectors, open_pairs, verdict.kind)
        if twin is not None:
            merged = session.get(QAPair, twin.id)
            assert merged is not None
            merged.merged_exchange_ids = [*merged.merged_exchange_ids, exchange_id]
            merged.updated_at = utcnow()
            record(session, merged.id or 0, "merged", "harvest", note=f"exchange {exchange_id}")
            twin.merged_exchange_ids = merged.merged_exchange_ids
            return "merged", merged, vector
        pair = QAPair(
            question=question or "",
            answer=answer,
            bot_answer=bot_answer,
            context=context,
            reference_model=exchange.model_id if own_output else None,
            origin_exchange_id=exchange_id,
            kind=verdict.kind,
            origin=verdict.origin,
            comment=comment,
            surface=exchange.surface.value,
            scope=exchange.scope,
        )
        session.add(pair)
        session.flush()
        record(session, pair.id or 0, "created", "harvest", note=verdict.origin)
        session.expunge(pair)
        return "new", pair, vector


def scrub_related(
    scrub: Scrubber, texts: list[str | None], sources: Sequence[dict[str, Any]]
) -> tuple[list[str | None], list[dict[str, Any]]]:
    """One exchange's texts and its sources scrubbed together: what the asker gave away
    in the question is removed where the answer or a comment repeats it."""
    sources = list(sources or [])
    source_texts = [str(source.get("text") or "") for source in sources]
    scrubbed = scrub.together([*texts, *source_texts])
    cleaned = []
    for source, text in zip(sources, scrubbed[len(texts) :], strict=True):
        labels = {
            key: scrub(value)
            for key, value in source.items()
            if key in {"title", "section"} and isinstance(value, str)
        }
        cleaned.append({**source, **labels, **({"text": text} if "text" in source else {})})
    return scrubbed[: len(texts)], cleaned


RANK = [
    PairOrigin.LEAD_CORRECTION,
    PairOrigin.USER_CORRECTION,
    PairOrigin.THUMBS_UP,
    PairOrigin.THUMBS_DOWN,
]


def _ranks_above(verdict: Verdict, pair: QAPair) -> bool:
    return RANK.index(verdict.origin) < RANK.index(pair.origin)


def _near_duplicate(
    vector: np.ndarray, pair_vectors: np.ndarray, pairs: Sequence[QAPair], kind: PairKind
) -> QAPair | None:
    if pair_vectors.shape[0] == 0:
        return None
    similarities = pair_vectors @ vector[0]
    for index in np.argsort(-similarities):
        if similarities[index] < MERGE_SIMILARITY:
            return None
        # Fold only into a pair of the same kind that is still open for curation.
        if pairs[index].kind == kind and pairs[index].status == PairStatus.CANDIDATE:
            return pairs[index]
    return None
