"""Excerpt answers that read like answers, and dated updates that supersede older text."""

from haystack import Document

from knowledge.excerpts import PASSAGE_CHARS, compose, select, supersessions

INTRO = "Excerpts:"


def manual(doc_id: str, content: str, section: str = "Manual > Reset", **meta: str) -> Document:
    return Document(
        id=doc_id,
        content=content,
        meta={"kind": "manual", "source_id": f"manual:{doc_id}", "section": section, **meta},
    )


def update(doc_id: str, content: str, published: str = "2026-10-14T09:00:00+00:00") -> Document:
    return Document(
        id=doc_id,
        content=content,
        meta={
            "kind": "update",
            "source_id": f"releases:{doc_id}",
            "title": "Firmware 3.2",
            "section": "Firmware 3.2 > Changes",
            "published_at": published,
        },
    )


RESET_STEPS = manual(
    "steps",
    "## Reset\nA reset erases everything.\n1. Keep the hub on.\n"
    "2. Hold the Reset button for 15 seconds until the light flashes red.\n"
    "3. Release the button.",
    title="Troubleshooting",
)
RESET_NOTE = update(
    "note",
    "## Changes\n- Hold the Reset button for 10 seconds until the light flashes red.\n"
    "- The hub now supports up to 250 devices (was 150).",
)


def test_an_update_that_changes_a_number_leads_and_the_manual_is_labelled_older() -> None:
    question = "How do I reset the hub?"
    [pair] = supersessions([RESET_STEPS, RESET_NOTE], question)
    assert (pair.update.id, pair.older.id) == ("note", "steps")
    answer = compose(question, [RESET_STEPS, RESET_NOTE], 3, INTRO)
    assert [d.id for d in answer.shown] == ["note", "steps"]
    text = answer.text
    assert "**Since 2026-10-14** (Firmware 3.2), changed from 15 to 10:" in text
    assert "older documentation (before 2026-10-14; where it differs, [1] is current)" in text
    assert text.index("10 seconds") < text.index("15 seconds")
    assert "250 devices" not in text, "only the release note's change that answers"
    assert "\n\n1. Keep the hub on.\n2. Hold the Reset button" in text, "steps kept whole"


def test_a_lifted_negation_is_a_change_too() -> None:
    older = manual("hdr", "HDR is not available in Game Mode.", section="Picture > HDR")
    newer = update("hdr-note", "HDR is now available in Game Mode.")
    [pair] = supersessions([older, newer], "Is HDR available in Game Mode?")
    assert pair.older_unit == "HDR is not available in Game Mode."


def test_updates_on_other_topics_or_older_than_the_text_supersede_nothing() -> None:
    question = "How do I reset the hub?"
    other_topic = update("wifi", "- Wi-Fi now uses 5 GHz by default.")
    assert supersessions([RESET_STEPS, other_topic], question) == []
    newer_manual = manual(
        "steps-2027",
        RESET_STEPS.content or "",
        published_at="2027-01-01T00:00:00+00:00",
    )
    assert supersessions([newer_manual, RESET_NOTE], question) == []
    same_fact = update("same", "- Hold the Reset button for 15 seconds until it flashes.")
    assert supersessions([RESET_STEPS, same_fact], question) == []


def test_an_update_sharing_only_a_common_word_with_the_question_supersedes_nothing() -> None:
    # The release note changes the reset time (a fact of a shown page), but the question
    # is about the amber light: "light", in every passage here, is all they share.
    question = "What does the amber light mean?"
    amber = manual(
        "amber",
        "The status light is amber when the hub has no internet connection.",
        section="Troubleshooting > Amber light",
    )
    documents = [amber, RESET_STEPS, RESET_NOTE]
    assert supersessions(documents, question) == []
    answer = compose(question, documents, 3, INTRO)
    assert answer.shown[0].id == "amber"
    assert "Since" not in answer.text
    assert "older documentation" not in answer.text


def test_an_update_goes_before_the_text_it_changes_not_before_a_better_answer() -> None:
    question = "Why does the light flash red?"
    firmware = manual(
        "flash",
        "The light flashes red while the hub updates its firmware.",
        section="Status light > Red",
    )
    answer = compose(question, [firmware, RESET_STEPS, RESET_NOTE], 3, INTRO)
    assert [d.id for d in answer.shown] == ["flash", "note", "steps"]
    assert "**Since 2026-10-14** (Firmware 3.2), changed from 15 to 10:" in answer.text
    assert "older documentation (before 2026-10-14; where it differs, [2] is current)" in (
        answer.text
    )


def test_one_passage_per_source_item_best_first() -> None:
    first = manual("a1", "Reset the hub with the button.")
    same_item = Document(id="a2", content="Reset again.", meta={**first.meta})
    other = manual("b", "Resetting clears the rooms.")
    answer = compose("How do I reset?", [first, same_item, other], 3, INTRO)
    assert [d.id for d in answer.shown] == ["a1", "b"]
    assert answer.text.startswith(INTRO)
    assert answer.text.endswith("[2]")


def test_a_table_keeps_its_header_and_the_rows_that_answer() -> None:
    table = manual(
        "lights",
        "| Colour | Meaning |\n| --- | --- |\n| Green | Connected |\n| Amber | No internet |",
        section="Status light",
    )
    answer = compose("What does the amber light mean?", [table], 3, INTRO)
    assert "| Colour | Meaning |\n| --- | --- |\n| Amber | No internet |\n\n[1]" in answer.text
    assert "Green" not in answer.text


def test_long_prose_is_cut_to_the_sentences_around_the_best_one() -> None:
    filler = " ".join(f"Sentence {i} talks about something else entirely." for i in range(40))
    text = f"{filler} To pair a remote, hold Back and Play for 3 seconds. {filler}"
    selected = select(manual("long", text), {"pair", "remote"})
    shown = " ".join(unit.text for unit in selected)
    assert "hold Back and Play for 3 seconds" in shown
    assert len(shown) <= PASSAGE_CHARS
    assert len(shown) < len(text) / 4


def test_hard_wrapped_prose_and_indented_list_continuations_are_joined() -> None:
    wrapped = manual(
        "wrapped",
        "The hub needs outgoing access to port 443 and\nport 123.\n"
        "1. Open the app.\n2. Enter the password. Your devices and\n   automations are kept.",
    )
    selected = select(wrapped, {"port"})
    assert selected[0].text == "The hub needs outgoing access to port 443 and port 123."
    assert selected[-1].text.endswith(
        "2. Enter the password. Your devices and automations are kept."
    )
