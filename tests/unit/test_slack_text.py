"""Slack text handling: mrkdwn conversion, question detection, /supportbot parsing."""

from __future__ import annotations

import json

import pytest
from slackify_markdown import slackify_markdown

from bot.slack.blocks import SECTION_LIMIT, _sections, source_line, to_mrkdwn
from bot.slack.channels import parse_command
from bot.slack.outbound import LIVE_MENTION, intended, neutralise, safe_payload
from bot.slack.questions import clean_text, looks_like_question
from knowledge.answering import Citation
from knowledge.scope import Scope

MARKDOWN = [
    "**Bold** and *italic* and [a link](https://docs.example/a?b=1&c=2)",
    "# Heading\n\n- one\n- two\n\n1. first\n2. second",
    "```\ncode **not bold**\n```\n\n> quoted text [1]",
    "Plain text with <angle> & ampersand",
    "nested\n\n- a\n  - b\n    - c",
]


@pytest.mark.parametrize("markdown", MARKDOWN)
def test_the_reused_parser_converts_exactly_like_slackify_markdown(markdown: str) -> None:
    assert to_mrkdwn(markdown) == slackify_markdown(markdown).strip()
    assert to_mrkdwn(markdown) == to_mrkdwn(markdown), "no state leaks between calls"


def test_markdown_becomes_mrkdwn() -> None:
    assert to_mrkdwn("**Hold** [Reset](https://x.example)") == "*Hold* <https://x.example|Reset>"


def test_a_table_keeps_its_rows_as_lines_without_the_markdown_rule() -> None:
    table = "| Colour | Meaning |\n| --- | --- |\n| Amber | No internet |\n\n---\n\nEnd"
    assert to_mrkdwn(table) == "| Colour | Meaning |\n| Amber | No internet |\n\nEnd"


def test_long_answers_are_split_into_sections_within_slacks_limit() -> None:
    text = "\n\n".join(["word " * 300] * 5) + "\n\n" + "x" * 7000
    sections = _sections(text)
    assert all(len(block["text"]["text"]) <= SECTION_LIMIT for block in sections)
    joined = "".join(block["text"]["text"] for block in sections).replace("\n", "")
    assert joined == text.replace("\n", "")


def test_a_source_line_links_the_title_and_dates_updates() -> None:
    update = Citation(
        2,
        "Release 2.4",
        None,
        "https://x.example/r",
        "2026-03-01T00:00:00",
        "update",
        "releases",
        0.5,
        "",
    )
    assert (
        source_line(update)
        == "[2] <https://x.example/r|Release 2.4> · update, 2026-03-01 · releases"
    )
    manual = Citation(1, "A <b> & c", "Setup", None, None, "manual", None, 0.5, "")
    assert source_line(manual) == "[1] A &lt;b&gt; &amp; c: Setup"
    nested = Citation(3, "Guide", "Guide > Reset", None, None, "manual", None, 0.5, "")
    assert source_line(nested) == "[3] Guide &gt; Reset"


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset the hub?",
        "my hub is not working after the update",
        "Getting error 503 when syncing",
        "can someone explain pairing",
        "Is there a way to export logs?",
    ],
)
def test_questions_and_problem_reports_are_recognised(text: str) -> None:
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "ok",
        "lol 😂",
        "hi all",
        "Deploying the new build after lunch.",
        "great, thank you",
    ],
)
def test_chit_chat_is_not_a_question(text: str) -> None:
    assert not looks_like_question(text)


def test_mentions_are_removed_and_escapes_undone() -> None:
    assert clean_text("<@U123> what is &lt;b&gt; &amp; co?") == "what is <b> & co?"


def test_supportbot_command_parsing() -> None:
    assert parse_command("auto on") == ("update", {"auto_answer": True})
    assert parse_command("tags billing, setup") == ("update", {"tags": ["billing", "setup"]})
    assert parse_command("tags -") == ("update", {"tags": []})
    assert parse_command("") == ("help", {})
    with pytest.raises(ValueError, match="Unknown kind"):
        parse_command("kinds manuals")


def test_scope_filters_and_label() -> None:
    scope = Scope(kinds=("manual",), products=("Nimbus Hub",))
    assert scope.filters == {
        "operator": "AND",
        "conditions": [
            {"field": "meta.kind", "operator": "in", "value": ["manual"]},
            {"field": "meta.product", "operator": "in", "value": ["Nimbus Hub"]},
        ],
    }
    assert scope.label == "product: Nimbus Hub · kind: manual"
    assert Scope().filters is None
    assert Scope().label is None


@pytest.mark.parametrize(
    "markdown",
    ["<!here>", "&lt;!here&gt;", "`<!channel>`", "```\n<!everyone>\n```", "[<!here>](https://x.y)"],
)
def test_markdown_to_mrkdwn_never_makes_a_live_mention(markdown: str) -> None:
    assert not LIVE_MENTION.search(to_mrkdwn(markdown))


def test_the_boundary_keeps_only_the_mentions_our_template_meant() -> None:
    text = f"{intended('<!subteam^S0LEADS>')} <!channel> <@U0X|x> <!subteam^S0Y> <#C0CHAN>"
    assert neutralise(text) == (
        "<!subteam^S0LEADS> &lt;!channel&gt; &lt;@U0X|x&gt; &lt;!subteam^S0Y&gt; <#C0CHAN>"
    )
    assert "\u2063" not in neutralise("forged \u2063abc\u2063<!here>\u2063abc\u2063")
    assert not LIVE_MENTION.search(neutralise("forged \u2063abc\u2063<!here>\u2063abc\u2063"))


def test_streamed_markdown_and_block_kit_are_made_inert_but_plain_text_is_left() -> None:
    payload = safe_payload(
        {
            "markdown_text": "<!here>",
            "blocks": '[{"type": "section", "text": {"type": "mrkdwn", "text": "<@U1>"}}]',
            "view": {"title": {"type": "plain_text", "text": "<!here>"}},
        }
    )
    assert payload["markdown_text"] == "<\u200b!here>"
    assert json.loads(payload["blocks"])[0]["text"]["text"] == "&lt;@U1&gt;"
    assert payload["view"]["title"]["text"] == "<!here>"
