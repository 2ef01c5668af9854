"""The page's own strings in several languages, and the language answers are asked in.

Catalogues are JSON files in `catalogues/` (one per language, the same keys as
`en.json`, which is the reference). The page's language: the widget's `data-language`
(`?lang=`), else the browser's `Accept-Language`, else the configured default. Answers
are asked for in the visitor's language, which may be one the page has no catalogue for.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

CATALOGUES = Path(__file__).parent / "catalogues"
REFERENCE = "en"

# Languages answers can be asked in (ISO 639-1 → the name the model is told).
ANSWER_LANGUAGES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "nb": "Norwegian",
    "fi": "Finnish",
    "pl": "Polish",
    "cs": "Czech",
    "tr": "Turkish",
    "ja": "Japanese",
    "ko": "Korean",
    "zh": "Chinese",
}


@cache
def catalogue(language: str) -> dict[str, str]:
    """The page's strings in `language`; keys a catalogue lacks come from English."""
    reference = json.loads((CATALOGUES / f"{REFERENCE}.json").read_text(encoding="utf-8"))
    if language == REFERENCE:
        return reference
    own = json.loads((CATALOGUES / f"{language}.json").read_text(encoding="utf-8"))
    return reference | own


@cache
def page_languages() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in CATALOGUES.glob("*.json")))


def primary(tag: str | None) -> str | None:
    """ "de-CH" → "de"; None for what is not a language tag."""
    if not tag:
        return None
    code = tag.strip().split("-")[0].split("_")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def accepted(header: str | None) -> list[str]:
    """An Accept-Language header's languages, most preferred first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = primary(tag)
        if code and quality > 0:
            weighted.append((-quality, position, code))
    return [code for _q, _p, code in sorted(weighted)]


def choose(requested: str | None, accept_language: str | None, default: str) -> tuple[str, str]:
    """(the page's language, the language answers are asked in)."""
    wanted = [code for code in [primary(requested), *accepted(accept_language)] if code]
    page = next((code for code in wanted if code in page_languages()), None)
    page = page or (default if default in page_languages() else REFERENCE)
    answers = next((code for code in wanted if code in ANSWER_LANGUAGES), page)
    return page, answers
