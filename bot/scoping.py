"""Which product a question is answered for, in the order the product promises:

1. an explicit choice: the channel's configured products (Slack), the widget's
   `product` parameter (web), or a pick from the clarifying question;
2. the scope of the thread's earlier answers;
3. detection from the question text against the product names and aliases of the
   sources file. Two or more products named: ask which one (one click) rather than
   guess. None: search everything, and each source shows its product.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bot.exchange_log import ExchangeLog
from knowledge.products import ProductCatalog, load_catalog
from knowledge.scope import Scope
from knowledge.sources import SourcesFileError, resolve_sources_file
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True)
class ScopeDecision:
    scope: Scope
    origin: str  # explicit, thread, detected or none
    choices: tuple[str, ...] = ()  # when set: ask which of these the question is about

    @property
    def needs_choice(self) -> bool:
        return bool(self.choices)


class Scoper:
    def __init__(self, settings: Settings, exchanges: ExchangeLog) -> None:
        self.exchanges = exchanges
        path = resolve_sources_file(settings.sources_file, settings.resolved_data_dir)
        try:
            self.catalog = load_catalog(path)
        except SourcesFileError as error:  # answering still works, unscoped
            log.error("scope.catalog_unavailable", error=str(error))
            self.catalog = ProductCatalog()

    @property
    def products(self) -> list[str]:
        return self.catalog.products

    def resolve(self, explicit: Scope, conversation_id: str | None, question: str) -> ScopeDecision:
        if explicit.products:
            return ScopeDecision(explicit, "explicit")
        if conversation_id:
            try:
                earlier = self.exchanges.thread_products(conversation_id)
            except SQLAlchemyError:
                earlier = ()
            if earlier:
                return ScopeDecision(explicit.with_products(earlier), "thread")
        detected = self.catalog.detect(question)
        if detected.product:
            return ScopeDecision(explicit.with_products((detected.product,)), "detected")
        if detected.ambiguous:
            return ScopeDecision(explicit, "none", choices=detected.products)
        return ScopeDecision(explicit, "none")
