"""The privacy boundary: one scrubber for every text that becomes shared or trainable.

Built on Microsoft Presidio's analyzer and anonymizer. Presidio's checksum-validated
recognizers find card numbers (Luhn, with spaces or dashes), IBANs (checksum), e-mail,
phone numbers in national and international formats (Google's phonenumbers), IP and
MAC addresses, US SSNs, UK National Insurance numbers and UK postcodes. Ours add what
support text carries that Presidio has no recognizer for: credentials (AWS, GitHub,
GitLab, Slack, OpenAI, bearer and JWT tokens, private keys, long random tokens),
passwords and PINs given in text, street addresses, dates of birth, Slack user
mentions and the names people give ("my name is…", "I'm…", a greeting or sign-off).

Presidio finds names with a statistical NER model; spaCy's trained models are not on
PyPI, so the analyzer runs on a blank spaCy English pipeline (tokenizer only) and names
come from the contexts above. `presidio-haystack`'s cleaners were judged and not used:
they download a spaCy model at start-up and take no custom recognizers.

Placeholders are typed and readable ("[card number]", "[name]"); only the matched span
is replaced, so the surrounding text stays intact. Private, loopback and documentation
IP addresses (the router's 192.168.0.1 in a manual) are not personal and stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from presidio_analyzer import (
    RecognizerResult,
)
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from finetune_data.recognizers import (
    LANGUAGE,
    MIN_ECHO_CHARS,
    MIN_SCORE,
    PLACEHOLDERS,
    build_analyzer,
)


@dataclass(frozen=True)
class Finding:
    kind: str  # the placeholder, e.g. "[card number]"
    start: int
    end: int


class Scrubber:
    """`scrubber(text)` → the text with personal data replaced by typed placeholders;
    `scrubber.find(text)` → what it would replace (kinds and places, never the values)."""

    def __init__(self) -> None:
        self._analyzer = build_analyzer()
        self._anonymizer = AnonymizerEngine()
        self._operators = {
            entity: OperatorConfig("replace", {"new_value": placeholder})
            for entity, placeholder in PLACEHOLDERS.items()
        }

    def find(self, text: str) -> list[Finding]:
        return [Finding(PLACEHOLDERS[r.entity_type], r.start, r.end) for r in self._analyze(text)]

    def __call__(self, text: str) -> str:
        return self._replace(text, self._analyze(text))

    def together(self, texts: list[str | None]) -> list[str | None]:
        """Scrub texts that belong together (a question, the answer that may echo it,
        the comments on it): a value found in one is removed from all, even where it
        stands without the context that gave it away (an echoed name or date)."""
        analysed = [(text, self._analyze(text or "")) for text in texts]
        found: dict[str, str] = {}
        for text, results in analysed:
            for result in results:
                value = (text or "")[result.start : result.end]
                if len(value) >= MIN_ECHO_CHARS:
                    found[value] = PLACEHOLDERS[result.entity_type]
        scrubbed: list[str | None] = []
        for text, results in analysed:
            if text is None:
                scrubbed.append(None)
                continue
            text = self._replace(text, results)
            for value in sorted(found, key=len, reverse=True):
                text = text.replace(value, found[value])
            scrubbed.append(text)
        return scrubbed

    def _replace(self, text: str, results: list[RecognizerResult]) -> str:
        if not results:
            return text
        return self._anonymizer.anonymize(
            text=text,
            analyzer_results=results,  # type: ignore[arg-type]
            operators=self._operators,
        ).text

    def _analyze(self, text: str) -> list[RecognizerResult]:
        if not text or not text.strip():
            return []
        results = self._analyzer.analyze(
            text=text, language=LANGUAGE, score_threshold=MIN_SCORE, entities=list(PLACEHOLDERS)
        )
        return _without_overlaps([_balanced(text, r) for r in results])


def _without_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Longest span first where findings overlap, so one placeholder covers the value."""
    kept: list[RecognizerResult] = []
    for result in sorted(results, key=lambda r: (-(r.end - r.start), -r.score)):
        if all(result.end <= k.start or result.start >= k.end for k in kept):
            kept.append(result)
    return sorted(kept, key=lambda r: r.start)


def _balanced(text: str, result: RecognizerResult) -> RecognizerResult:
    """Leave a bracket outside the span when its partner is outside too: "office
    (+33 1 42 68 53 00)" becomes "office ([phone])", not "office [phone])"."""
    span = text[result.start : result.end]
    for opening, closing in ("()", "[]"):
        if span.startswith(opening) and closing not in span:
            result.start += 1
            span = span[1:]
        if span.endswith(closing) and opening not in span:
            result.end -= 1
            span = span[:-1]
    return result


@cache
def shared_scrubber() -> Scrubber:
    """The process's one scrubber (its analyzer takes seconds to build)."""
    return Scrubber()


def unscrubbed(text: str, scrubber: Scrubber) -> list[str]:
    """The kinds of personal data still in `text` ("[card number]", …), for messages
    that tell a lead what to edit without repeating the data."""
    return sorted({finding.kind for finding in scrubber.find(text)})
