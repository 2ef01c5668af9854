"""The page's languages: catalogues complete, the visitor's language chosen sensibly."""

from __future__ import annotations

import json

from bot.web.i18n import CATALOGUES, accepted, catalogue, choose, page_languages


def test_every_catalogue_has_every_english_key_and_keeps_its_placeholders() -> None:
    english = json.loads((CATALOGUES / "en.json").read_text(encoding="utf-8"))
    assert set(page_languages()) >= {"en", "de", "fr"}
    for language in page_languages():
        own = json.loads((CATALOGUES / f"{language}.json").read_text(encoding="utf-8"))
        assert set(own) == set(english), language
        for key, text in english.items():
            for placeholder in ("{products}", "{product}", "{date}", "{status}", "{n}"):
                assert (placeholder in text) == (placeholder in own[key]), (language, key)


def test_the_widget_wins_then_the_browser_then_the_default() -> None:
    assert choose("de", "fr-FR,fr;q=0.9", "en") == ("de", "de")
    assert choose(None, "fr-CA,fr;q=0.9,en;q=0.5", "en") == ("fr", "fr")
    assert choose(None, "ja,de;q=0.8", "en") == ("de", "ja")  # answers in Japanese
    assert choose("xx", None, "de") == ("de", "de")
    assert choose(None, None, "zz") == ("en", "en")


def test_accept_language_is_ordered_by_quality_and_drops_refusals() -> None:
    assert accepted("en;q=0.2, de-AT, fr;q=0.7, es;q=0") == ["de", "fr", "en"]
    assert accepted("garbage;;q=x, *") == []


def test_a_missing_string_falls_back_to_english() -> None:
    assert catalogue("de")["send"] == "Senden"
    assert catalogue("en")["send"] == "Send"
