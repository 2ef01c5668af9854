"""Keep the best `top_k` of a ranked list (the retrievers fetch more candidates)."""

from __future__ import annotations

from haystack import Document, component


@component
class TopK:
    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document], top_k: int | None = None) -> dict[str, list[Document]]:
        return {"documents": documents if top_k is None else documents[:top_k]}
