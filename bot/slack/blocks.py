"""Block Kit for answers, sources, feedback and hand-offs.

Answers are written in Markdown (the model's and the excerpt formatter's output);
Slack's `mrkdwn` differs (`*bold*`, `<url|text>`), so text that goes into blocks is
converted with slackify-markdown. Streamed text needs no conversion: Slack's streaming
methods take Markdown.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from typing import Any

import structlog
from markdown_it import MarkdownIt
from slackify_markdown.slackify import SlackifyMarkdown

from knowledge.answering import Answer, Citation
from knowledge.documents import DocumentKind
from supportbot.models import MAX_ID

log = structlog.stdlib.get_logger(__name__)

ACTION_HELPFUL = "feedback_up"
ACTION_NOT_HELPFUL = "feedback_down"
ACTION_HANDOFF = "handoff"
ACTION_CHANGE_PRODUCT = "scope_change"
ACTION_CHOOSE_PRODUCT = "scope_choice"  # prefix: one action id per button of a picker
ALL_PRODUCTS = ""  # a picker value: search every product
MAX_PICKED_QUESTION = 1800  # a button value holds at most 2,000 characters
FEEDBACK_MODAL = "feedback_modal"

SECTION_LIMIT = 3000  # characters of text in one section block
MAX_SOURCES_SHOWN = 5

REASONS = {
    "wrong": "The answer is wrong",
    "incomplete": "It is incomplete",
    "outdated": "It is out of date",
    "off_topic": "It doesn't answer my question",
    "other": "Something else",
}

Block = dict[str, Any]


_parsers = threading.local()


def to_mrkdwn(markdown: str) -> str:
    """slackify-markdown's conversion with its parser built once per thread:
    `slackify_markdown()` builds a new markdown-it parser on every call, which made it
    the costliest step of posting an answer (benchmarks/slack_ack.py)."""
    parser = getattr(_parsers, "markdown_it", None)
    if parser is None:
        parser = MarkdownIt(
            "gfm-like",
            renderer_cls=_EscapingSlackify,
            options_update={"html": False, "linkify": False, "breaks": False},
        ).disable("table")
        _parsers.markdown_it = parser
    # Slack has no tables: rows stay as text lines, their Markdown rule line goes.
    markdown = _TABLE_RULE.sub("", markdown.replace(SlackifyMarkdown.NEW_LINE, ""))
    return parser.render(markdown).strip()


_TABLE_RULE = re.compile(
    r"^[ \t]*\|[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*\n", re.MULTILINE
)


class _EscapingSlackify(SlackifyMarkdown):
    """slackify-markdown, but text and code are escaped whole: its own escaping lets
    `<@…>` and `<!…>` through, and Markdown's `&lt;!here&gt;` decodes to a live ping."""

    def text(self, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return escape(tokens[idx].content)

    def code_inline(self, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return f"`{escape(tokens[idx].content)}`"

    def code_block(self, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return f"```\n{escape(tokens[idx].content)}```\n"

    fence = code_block


def escape(text: str) -> str:
    # Slack's three control characters in mrkdwn and link labels.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sections(mrkdwn: str) -> list[Block]:
    """Text split into section blocks at paragraph boundaries, within Slack's limit."""
    blocks: list[Block] = []
    current = ""
    for paragraph in mrkdwn.split("\n\n"):
        if len(paragraph) > SECTION_LIMIT and current:
            blocks.append(section(current))
            current = ""
        while len(paragraph) > SECTION_LIMIT:  # one enormous paragraph: hard split
            blocks.append(section(paragraph[:SECTION_LIMIT]))
            paragraph = paragraph[SECTION_LIMIT:]
        if current and len(current) + 2 + len(paragraph) > SECTION_LIMIT:
            blocks.append(section(current))
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current.strip():
        blocks.append(section(current))
    return blocks


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context_block(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def source_line(citation: Citation) -> str:
    """`[1] <url|Title: Section> · update, 2026-03-01 · Product`"""
    title, section = citation.title, citation.section
    if title and section and section.startswith(title):
        title = None  # the heading path already starts with the title
    label = ": ".join(part for part in (title, section) if part) or "Source"
    label = escape(label)
    linked = f"<{citation.url}|{label}>" if citation.url else label
    details = []
    if citation.kind == DocumentKind.UPDATE:
        dated = citation.published_at
        details.append(f"update, {dated[:10]}" if dated else "update")
    elif citation.kind == DocumentKind.VERIFIED_ANSWER:
        details.append("verified answer")
    if citation.product or citation.source:  # which product the source belongs to
        details.append(escape(citation.product or citation.source or ""))
    suffix = f" · {' · '.join(details)}" if details else ""
    return f"[{citation.number}] {linked}{suffix}"


def sources_blocks(citations: list[Citation]) -> list[Block]:
    if not citations:
        return []
    lines = [source_line(c) for c in citations[:MAX_SOURCES_SHOWN]]
    return [context_block("*Sources*\n" + "\n".join(lines))]


def feedback_actions(exchange_id: int, handoff: bool = True, change: bool = False) -> Block:
    value = str(exchange_id)
    buttons: list[Block] = [
        _button(":+1: Helpful", ACTION_HELPFUL, value),
        _button(":-1: Not helpful", ACTION_NOT_HELPFUL, value),
    ]
    if handoff:
        buttons.append(_button("Talk to a human", ACTION_HANDOFF, value))
    if change:
        buttons.append(_button("Change product", ACTION_CHANGE_PRODUCT, value))
    return {"type": "actions", "block_id": f"feedback:{exchange_id}", "elements": buttons}


def product_picker(question: str, products: list[str], prompt: str) -> list[Block]:
    """One click answers `question` for the chosen product (or for all of them)."""
    quoted = escape(question[:200]) + ("…" if len(question) > 200 else "")
    choices = [*products, ALL_PRODUCTS]
    rows = [choices[i : i + 25] for i in range(0, len(choices), 25)]  # Slack's limit
    picker: list[Block] = [section(f"{prompt}\n>{quoted}")]
    for row_number, row in enumerate(rows):
        buttons = [
            _button(
                (product or "All products")[:75],
                f"{ACTION_CHOOSE_PRODUCT}:{row_number}:{i}",
                json.dumps({"q": question[:MAX_PICKED_QUESTION], "p": product}),
            )
            for i, product in enumerate(row)
        ]
        picker.append(
            {"type": "actions", "block_id": f"scope_picker:{row_number}", "elements": buttons}
        )
    return picker


INPUT_LIMIT = 3000  # characters of a modal's text input (Slack's limit; checked again here)
_ID = re.compile(r"[0-9]{1,19}")  # ASCII only: int() also takes other scripts


def strict_id(value: Any) -> int | None:
    """A database id from a payload, or None: ASCII digits only, within 1…2^63-1."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def action_id_value(body: dict[str, Any]) -> int | None:
    """The id (an exchange's, a pair's) a clicked button carries; None if malformed."""
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else {}
    number = strict_id(action.get("value") if isinstance(action, dict) else None)
    if number is None:
        log.warning("slack.malformed_action", action=str(action)[:200])
    return number


def seal(data: dict[str, Any], key: bytes) -> str:
    """JSON with an HMAC, for a modal's private_metadata: proof the bot opened it."""
    text = json.dumps(data, sort_keys=True)
    signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"data": data, "sig": signature})


def unseal(sealed: Any, key: bytes) -> dict[str, Any] | None:
    """What `seal` sealed, or None when it is not the bot's own (forged or mangled)."""
    try:
        outer = json.loads(sealed)
        data, signature = outer["data"], outer["sig"]
        text = json.dumps(data, sort_keys=True)
    except (TypeError, ValueError, KeyError, RecursionError):
        return None
    expected = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    if not isinstance(signature, str) or not hmac.compare_digest(signature, expected):
        return None
    return data if isinstance(data, dict) else None


def _button(text: str, action_id: str, value: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }


def closing_blocks(
    answer: Answer, exchange_id: int | None, scope_label: str | None, change: bool = False
) -> list[Block]:
    """What follows the answer text: note, sources, scope and the feedback buttons
    (with "Change product" when `change`: other products could answer too)."""
    blocks: list[Block] = []
    if answer.mode == "excerpts" and answer.note is None:
        blocks.append(context_block("_No language model is configured: these are excerpts._"))
    blocks += sources_blocks(answer.citations)
    if scope_label:
        blocks.append(context_block(f"Answering for: {escape(scope_label)}"))
    if exchange_id is not None:
        blocks.append(feedback_actions(exchange_id, handoff=not answer.abstained, change=change))
    return blocks


def answer_blocks(
    text: str,
    answer: Answer,
    exchange_id: int | None,
    scope_label: str | None,
    change: bool = False,
) -> list[Block]:
    return _sections(to_mrkdwn(text)) + closing_blocks(answer, exchange_id, scope_label, change)


def feedback_modal(
    exchange_id: int, channel_id: str | None, thread_ts: str | None, key: bytes
) -> Block:
    metadata = {"exchange_id": exchange_id, "channel_id": channel_id, "thread_ts": thread_ts}
    return {
        "type": "modal",
        "callback_id": FEEDBACK_MODAL,
        "private_metadata": seal(metadata, key),
        "title": {"type": "plain_text", "text": "What went wrong?"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "optional": True,
                "label": {"type": "plain_text", "text": "The problem"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [
                        {"text": {"type": "plain_text", "text": label}, "value": code}
                        for code, label in REASONS.items()
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "comment",
                "optional": True,
                "label": {"type": "plain_text", "text": "Tell us more"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2000,
                },
            },
            {
                "type": "input",
                "block_id": "correction",
                "optional": True,
                "label": {"type": "plain_text", "text": "The right answer (optional)"},
                "hint": {
                    "type": "plain_text",
                    "text": "Corrections are reviewed by the support leads and teach the bot.",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }


def modal_values(view: dict[str, Any]) -> dict[str, str | None]:
    """reason, comment, correction from a submitted feedback modal (None when empty);
    any other shape (a forged submission) reads as empty."""
    state = _mapping(_mapping(view).get("state")).get("values")

    def value(block_id: str) -> str | None:
        element = _mapping(_mapping(_mapping(state).get(block_id)).get("value"))
        if element.get("type") == "static_select":
            selected = _mapping(element.get("selected_option")).get("value")
            return selected if selected in REASONS else None
        text = element.get("value")
        return text.strip() or None if isinstance(text, str) else None

    return {name: value(name) for name in ("reason", "comment", "correction")}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
