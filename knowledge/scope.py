"""What a question is answered from, and the kinds of documents in the store.

One `Scope` type for every front end, the CLI and the learning loop: it turns into
Haystack filters for retrieval and is stored on exchanges, questions and pairs as JSON
(`stored()` / `from_stored()`), never as display text to be parsed back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The stored JSON's keys are the attribute names, in display order.
_STORED = ("products", "kinds", "tags")
_FILTER_FIELDS = (("kinds", "kind"), ("tags", "tags"), ("products", "product"))


@dataclass(frozen=True)
class Scope:
    """Source kinds, tags and products a question is answered from (empty: everything)."""

    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    products: tuple[str, ...] = ()

    @classmethod
    def of_product(cls, product: str | None) -> Scope:
        return cls(products=(product,) if product else ())

    @property
    def filters(self) -> dict[str, Any] | None:
        """Haystack filters selecting the documents in scope; None for everything."""
        conditions = [
            {"field": f"meta.{field}", "operator": "in", "value": list(getattr(self, name))}
            for name, field in _FILTER_FIELDS
            if getattr(self, name)
        ]
        if not conditions:
            return None
        return {"operator": "AND", "conditions": conditions}

    @property
    def product(self) -> str | None:
        """The one product this scope is about, if exactly one."""
        return self.products[0] if len(self.products) == 1 else None

    @property
    def label(self) -> str | None:
        """Readable form for people, e.g. "product: Nimbus Hub · kind: manual"."""
        parts = [
            f"{name}: {', '.join(values)}"
            for name, values in (
                ("product", self.products),
                ("kind", self.kinds),
                ("tags", self.tags),
            )
            if values
        ]
        return " · ".join(parts) or None

    @property
    def display(self) -> str | None:
        """What the asker sees: "Galaxy S10" or "Galaxy S10 · kind: manual"."""
        parts = [", ".join(self.products)] if self.products else []
        others = (("kind", self.kinds), ("tags", self.tags))
        parts += [f"{name}: {', '.join(values)}" for name, values in others if values]
        return " · ".join(parts) or None

    def stored(self) -> dict[str, list[str]] | None:
        """The JSON form kept in the database; None for no scope."""
        data = {name: list(getattr(self, name)) for name in _STORED}
        return {name: values for name, values in data.items() if values} or None

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> Scope:
        """The scope a stored JSON value describes (unknown keys are ignored)."""
        if not isinstance(data, dict):
            return cls()
        return cls(**{name: tuple(str(v) for v in data.get(name) or () if v) for name in _STORED})

    def with_products(self, products: tuple[str, ...]) -> Scope:
        return Scope(kinds=self.kinds, tags=self.tags, products=products)
