"""Questions offered on an empty conversation: the configured starters for the product,
then what web visitors ask most that got an answer.

Another visitor's question is shown to everyone, so it must be common and impersonal:
asked in at least `web_suggest_min_askers` conversations, answered (not abstained or
stopped), short, and free of anything the privacy scrubber finds or of long numbers
(orders, tickets). Slack questions are never offered on the public web.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable

from bot.exchange_log import ExchangeLog
from finetune_data.scrub import Scrubber, shared_scrubber
from supportbot.models import Surface
from supportbot.settings import Settings

MAX_SUGGESTIONS = 6
MAX_CHARS = 160
CACHE_S = 300.0
EVERY_PRODUCT = "*"
IDENTIFYING = re.compile(r"\d{5,}|@|https?://")


def normal_form(question: str) -> str:
    """Questions that differ in case, spacing or end punctuation count as one."""
    return re.sub(r"\s+", " ", question).strip().rstrip("?!. ").casefold()


class Suggestions:
    def __init__(
        self,
        settings: Settings,
        exchanges: ExchangeLog,
        scrubber: Callable[[], Scrubber] = shared_scrubber,
    ) -> None:
        self.starters = settings.web_starter_questions
        self.min_askers = settings.web_suggest_min_askers
        self.exchanges = exchanges
        self.scrubber = scrubber
        self._cache: dict[str | None, tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, product: str | None) -> list[str]:
        """Blocking (the database, the scrubber): call it from a worker thread."""
        with self._lock:
            cached = self._cache.get(product)
            if cached and time.monotonic() - cached[0] < CACHE_S:
                return cached[1]
        found = self._compute(product)
        with self._lock:
            self._cache[product] = (time.monotonic(), found)
        return found

    def _compute(self, product: str | None) -> list[str]:
        starters = [*(self.starters.get(product, []) if product else [])]
        starters += self.starters.get(EVERY_PRODUCT, [])
        chosen: dict[str, str] = {}
        for question in [*starters, *self._most_asked(product)]:
            chosen.setdefault(normal_form(question), question.strip())
        return list(chosen.values())[:MAX_SUGGESTIONS]

    def _most_asked(self, product: str | None) -> list[str]:
        askers: dict[str, set[str | None]] = {}
        wording: dict[str, str] = {}
        for question, conversation_id in self.exchanges.answered_questions(Surface.WEB, product):
            key = normal_form(question)
            askers.setdefault(key, set()).add(conversation_id)
            wording.setdefault(key, question.strip())  # the latest wording
        counts = Counter({key: len(ids) for key, ids in askers.items()})
        common = [key for key, n in counts.most_common() if n >= self.min_askers]
        impersonal = [
            wording[key]
            for key in common
            if len(wording[key]) <= MAX_CHARS and not IDENTIFYING.search(wording[key])
        ][: MAX_SUGGESTIONS * 2]
        if not impersonal:
            return []
        scrubber = self.scrubber()
        return [question for question in impersonal if not scrubber.find(question)]
