"""Recent updates outrank older manual text on the same topic."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from haystack import Document, component

from knowledge.documents import DocumentKind


@component
class UpdateBoost:
    """Let a recent update outrank older manual text on the same topic.

    Adds `boost` * 0.5^(age / half-life) to the score of dated `update` chunks, then
    re-sorts: a near-tie goes to the newer update, a clearly better match keeps its place.
    """

    def __init__(self, boost: float = 0.15, half_life_days: float = 365.0) -> None:
        self.boost = boost
        self.half_life_days = half_life_days

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document], now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)
        boosted = []
        for document in documents:
            score = document.score or 0.0
            published = document.meta.get("published_at")
            if document.meta.get("kind") == DocumentKind.UPDATE and published:
                try:
                    age_days = max((now - datetime.fromisoformat(published)).days, 0)
                except (TypeError, ValueError):
                    age_days = None
                if age_days is not None:
                    score += self.boost * 0.5 ** (age_days / self.half_life_days)
            boosted.append(replace(document, score=score))
        boosted.sort(key=lambda d: d.score or 0.0, reverse=True)
        return {"documents": boosted}
