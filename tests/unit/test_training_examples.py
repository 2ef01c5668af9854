"""Training examples that teach citing: reference answers get citation markers, and
examples are fitted into the context by dropping sources, never by cutting the rules,
the question or the answer."""

from __future__ import annotations

from finetune_data.citations import add_citations
from finetune_data.fitting import fit

SOURCES = [
    {"text": "To reset the hub, hold the Reset button for 15 seconds until the light blinks."},
    {"text": "Release notes: a factory reset now takes 10 seconds instead of 15."},
    {"text": "The hub supports Zigbee 3.0 and Thread."},
]


def test_each_supported_sentence_cites_the_sources_that_state_it() -> None:
    answer = "Hold the Reset button until the light blinks. A reset now takes 10 seconds. Done."
    assert add_citations(answer, SOURCES) == (
        "Hold the Reset button until the light blinks [1]. A reset now takes 10 seconds [2]. Done."
    )


def test_answers_that_already_cite_or_that_no_source_supports_are_unchanged() -> None:
    assert add_citations("Hold Reset [2].", SOURCES) == "Hold Reset [2]."
    unsupported = "Contact the installer about wall mounting brackets."
    assert add_citations(unsupported, SOURCES) == unsupported
    assert add_citations("Yes.", SOURCES) == "Yes."


def _example(answer: str) -> list[dict[str, str]]:
    blocks = "".join(
        f'<source id="{n}" title="T{n}">\n{"word " * 10 * n}\n</source>\n' for n in (1, 2, 3)
    )
    return [
        {"role": "system", "content": "Cite sources like [1]."},
        {"role": "user", "content": f"{blocks}\nQuestion: How?"},
        {"role": "assistant", "content": answer},
    ]


def words(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"].split()) for m in messages)


def test_an_example_that_fits_is_untouched() -> None:
    example = _example("Do it [3].")
    assert fit(example, words, 10_000).messages == example


def test_uncited_sources_are_dropped_lowest_ranked_first_and_citations_renumbered() -> None:
    example = _example("Do it [3].")
    fitted = fit(example, words, words(example) - 15)  # room for dropping source 2 only
    assert fitted.dropped_sources == 1
    system, user, answer = fitted.messages
    assert system == example[0], "the rules stay"
    assert user["content"].endswith("Question: How?"), "the question stays"
    assert '<source id="1" title="T1">' in user["content"]
    assert '<source id="2" title="T3">' in user["content"], "source 3 is now number 2"
    assert "T2" not in user["content"]
    assert answer["content"] == "Do it [2].", "the answer follows its source's new number"


def test_an_example_that_cannot_fit_without_cited_sources_is_left_out() -> None:
    example = _example("Do it [1][2][3].")
    fitted = fit(example, words, 20)
    assert fitted.messages is None
    assert fitted.dropped_sources == 0
