"""Document coherence: chunks of the group that dominates the top results get a boost,
because a question is usually about one product and the near-identical section of
another product's manual is the typical wrong hit.

Both group by `product` (else `source`): a product's release notes must not sink below
its manual for being another source. The embedded store's fusion (score_fusion.py)
applies the bonus with a moderate weight; after Weaviate's server-side fusion,
`SourceCoherence` applies it with a weight large enough to put the dominant group first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import replace

from haystack import Document, component

from knowledge.documents import DocumentKind

COHERENCE_WEIGHT = 0.5
COHERENCE_TOP_N = 30


def coherence_group(meta: dict) -> Hashable:
    """The chunk's product, else its source; None (neutral) for a verified answer that
    no product scopes: a lead's curated answer holds for every product."""
    if meta.get("product"):
        return meta["product"]
    if meta.get("kind") == DocumentKind.VERIFIED_ANSWER:
        return None
    return meta.get("source")


def coherence_bonus(
    scores: dict[str, float],
    groups: dict[str, Hashable],
    weight: float = COHERENCE_WEIGHT,
    top_n: int = COHERENCE_TOP_N,
) -> dict[str, float]:
    """`scores` plus `weight` times the share of the top `top_n` scores that each
    document's group holds (the dominant group's share for a group of None)."""
    if not weight or not scores:
        return scores
    top = sorted(scores, key=lambda doc_id: scores[doc_id], reverse=True)[:top_n]
    mass: dict[Hashable, float] = defaultdict(float)
    for doc_id in top:
        mass[groups.get(doc_id)] += max(scores[doc_id], 0.0)
    mass.pop(None, None)
    total = sum(mass.values()) or 1.0
    dominant = max(mass.values(), default=0.0)
    # A neutral chunk (group None) gets the dominant group's bonus: it never loses to
    # the product a question is about for belonging to none.
    return {
        doc_id: score + weight * mass.get(group, dominant if group is None else 0.0) / total
        for doc_id, score in scores.items()
        for group in [groups.get(doc_id)]
    }


@component
class SourceCoherence:
    """Re-rank scored documents with the coherence bonus, best first, cut to `top_k`."""

    def __init__(
        self,
        weight: float = COHERENCE_WEIGHT,
        top_n: int = COHERENCE_TOP_N,
    ) -> None:
        self.weight = weight
        self.top_n = top_n

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document], top_k: int | None = None) -> dict[str, list[Document]]:
        by_id = {document.id: document for document in documents}
        scores = {doc_id: document.score or 0.0 for doc_id, document in by_id.items()}
        groups = {doc_id: coherence_group(document.meta) for doc_id, document in by_id.items()}
        boosted = coherence_bonus(scores, groups, self.weight, self.top_n)
        ranked = sorted(boosted, key=lambda doc_id: boosted[doc_id], reverse=True)
        if top_k is not None:
            ranked = ranked[:top_k]
        return {"documents": [replace(by_id[doc_id], score=boosted[doc_id]) for doc_id in ranked]}
