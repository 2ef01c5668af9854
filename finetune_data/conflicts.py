"""Pairs that contradict each other: near-duplicate questions (same product) whose
answers disagree on a number, a yes/no or a named setting (facts.py). Approving one
against an approved pair is refused (curation.py) and a dataset that holds both is not
exported (datasets.py), so the model is never taught both "yes" and "no"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from finetune_data import facts
from knowledge.components.embedders import Embed
from knowledge.scope import Scope
from supportbot.models import QAPair

NEAR_DUPLICATE = 0.9  # cosine of question embeddings


@dataclass
class Conflict:
    pair: QAPair
    reason: str


ConflictCheck = Callable[[QAPair, list[QAPair]], list[Conflict]]


def conflict_check(embed: Embed) -> ConflictCheck:
    def check(pair: QAPair, others: list[QAPair]) -> list[Conflict]:
        return find_conflicts(pair, others, embed)

    return check


def find_conflicts(pair: QAPair, others: Sequence[QAPair], embed: Embed) -> list[Conflict]:
    candidates = [o for o in others if _product(o) == _product(pair) and o.answer.strip()]
    if not candidates:
        return []
    vectors = embed([pair.question, *[o.question for o in candidates]])
    similarities = vectors[1:] @ vectors[0]
    found = []
    for other, similarity in zip(candidates, similarities, strict=True):
        reason = _disagreement(pair, other) if similarity >= NEAR_DUPLICATE else None
        if reason:
            found.append(Conflict(other, reason))
    return found


def contradictions(pairs: Sequence[QAPair], embed: Embed) -> list[tuple[QAPair, QAPair, str]]:
    """Every contradicting couple among `pairs` (for a dataset about to be exported)."""
    if len(pairs) < 2:
        return []
    vectors = embed([p.question for p in pairs])
    similarities = vectors @ vectors.T
    found = []
    for i, j in zip(*np.nonzero(np.triu(similarities >= NEAR_DUPLICATE, k=1)), strict=True):
        first, second = pairs[int(i)], pairs[int(j)]
        reason = _disagreement(first, second)
        if reason:
            found.append((first, second, reason))
    return found


def _disagreement(first: QAPair, second: QAPair) -> str | None:
    """Why two near-duplicate pairs contradict each other; None when they don't (or
    answer for different products)."""
    if _product(first) != _product(second):
        return None
    return "; ".join(facts.check(first.answer, second.answer).problems) or None


def _product(pair: QAPair) -> str | None:

    return Scope.from_stored(pair.scope).product
