"""The products a knowledge base documents, and which one a question is about.

Product names come from the sources file (each source's `product`), with optional
aliases in a top-level `products:` section:

    products:
      - name: Galaxy S10
        aliases: [S10, SM-G973]

Detection looks for a product's name or aliases in the question as whole words,
ignoring case, spaces, hyphens and underscores ("galaxy-s10", "Galaxy_S10"). The
longest match wins where names overlap ("Galaxy S10 Lite" is not also "Galaxy S10").
One product found: the question is about it. Several: ambiguous; the front end asks.
None: search everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.sources import load_sources_file

SEPARATORS = re.compile(r"[\s_\-]+")


def normalise(text: str) -> str:
    return SEPARATORS.sub(" ", text.casefold()).strip()


@dataclass(frozen=True)
class Detection:
    products: tuple[str, ...] = ()

    @property
    def product(self) -> str | None:
        return self.products[0] if len(self.products) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.products) > 1


@dataclass
class ProductCatalog:
    aliases: dict[str, list[str]] = field(default_factory=dict)  # product → aliases

    @property
    def products(self) -> list[str]:
        return sorted(self.aliases)

    def named(self, name: str) -> str | None:
        """The product `name` means, by its name or an alias, any case or spacing."""
        wanted = normalise(name)
        for product, aliases in self.aliases.items():
            if wanted in {normalise(n) for n in (product, *aliases)}:
                return product
        return None

    def detect(self, question: str) -> Detection:
        text = f" {normalise(question)} "
        spans: list[tuple[int, int, str]] = []
        for product, names in self.aliases.items():
            for name in {product, *names}:
                term = normalise(name)
                if not term:
                    continue
                for match in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", text):
                    spans.append((match.start(), match.end(), product))
        # Longest first; a span inside a longer one (of another product) does not count.
        spans.sort(key=lambda s: (s[0] - s[1], s[0]))
        kept: list[tuple[int, int, str]] = []
        for start, end, product in spans:
            if not any(k[0] <= start and end <= k[1] for k in kept):
                kept.append((start, end, product))
        found = sorted({product for _, _, product in kept}, key=self.products.index)
        return Detection(tuple(found))


def load_catalog(path: Path) -> ProductCatalog:
    """The products of a sources file: each source's `product`, plus `products:` aliases.
    Raises SourcesFileError for an unreadable file."""

    parsed = load_sources_file(path)
    catalog = ProductCatalog({s.product: [] for s in parsed.sources if s.product})
    for entry in parsed.products:
        catalog.aliases.setdefault(entry.name, []).extend(entry.aliases)
    return catalog
