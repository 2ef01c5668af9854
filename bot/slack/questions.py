"""Deciding which Slack messages are questions for the bot, and cleaning their text."""

from __future__ import annotations

import re

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_QUESTION_WORDS = {
    "how", "what", "why", "when", "where", "which", "who", "can", "could", "does", "do",
    "is", "are", "should", "would", "will", "any", "anyone", "help", "is there",
}  # fmt: skip
_PROBLEM_WORDS = {
    "error", "errors", "fails", "failing", "failed", "broken", "issue", "problem", "crash",
    "crashes", "unable", "can't", "cannot", "won't", "doesn't", "not", "stuck", "help",
}  # fmt: skip
_CHIT_CHAT = {
    "thanks", "thank", "thx", "ty", "ok", "okay", "cool", "great", "nice", "lol", "hi",
    "hello", "hey", "bye", "yes", "no", "yep", "nope", "sure", "awesome", "perfect",
}  # fmt: skip

# Message subtypes that are not someone asking something: edits, joins, topic changes,
# bot posts, deletions… A file shared with a question is still a question.
ANSWERABLE_SUBTYPES = {None, "file_share", "thread_broadcast"}


def clean_text(text: str) -> str:
    """Message text without user mentions and with Slack's escapes undone."""
    text = _MENTION.sub(" ", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in text


def looks_like_question(text: str) -> bool:
    """True for real questions and problem reports; False for chit-chat and thanks.

    Deliberately conservative: in a busy channel an unwanted answer is worse than a
    missed one (people can always mention the bot).
    """
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 3:
        return False
    if all(w in _CHIT_CHAT for w in words[:4]) and "?" not in text:
        return False
    if text.rstrip().endswith("?"):
        return True
    if words[0] in _QUESTION_WORDS:
        return True
    lowered = text.lower()
    return any(w in _PROBLEM_WORDS for w in words) or "not working" in lowered
