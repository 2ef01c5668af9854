"""Deciding which Slack messages are questions for the bot, and cleaning their text."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from knowledge.scope import Scope
from supportbot.models import QuestionRecord, Surface

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


SetStatus = Callable[[str], Awaitable[object]]


@dataclass
class Question:
    """A question heard in Slack and where its answer goes."""

    channel_id: str
    message_ts: str
    thread_ts: str
    user_id: str | None
    team_id: str | None
    text: str
    scope: Scope = field(default_factory=Scope)
    claim_keys: list[str] = field(default_factory=list)
    status: SetStatus | None = None  # assistant threads show "is thinking…"
    follow_up: bool = False
    scope_chosen: bool = False  # picked by the asker: no detection, no asking again
    id: int | None = None  # its QuestionRecord, once recorded
    reply_ts: str | None = None  # the answer message a first attempt had started

    @property
    def conversation_id(self) -> str:
        return f"slack:{self.channel_id}:{self.thread_ts}"

    def record(self) -> QuestionRecord:
        return QuestionRecord(
            surface=Surface.SLACK,
            text=self.text,
            conversation_id=self.conversation_id,
            channel_id=self.channel_id,
            thread_ts=self.thread_ts,
            message_ts=self.message_ts,
            user_id=self.user_id,
            team_id=self.team_id,
            scope=self.scope.stored(),
            scope_chosen=self.scope_chosen,
            follow_up=self.follow_up,
        )

    @classmethod
    def of(cls, record: QuestionRecord) -> Question:
        assert record.channel_id is not None
        assert record.message_ts is not None
        assert record.thread_ts is not None
        return cls(
            channel_id=record.channel_id,
            message_ts=record.message_ts,
            thread_ts=record.thread_ts,
            user_id=record.user_id,
            team_id=record.team_id,
            text=record.text,
            scope=Scope.from_stored(record.scope),
            follow_up=record.follow_up,
            scope_chosen=record.scope_chosen,
            id=record.id,
            reply_ts=record.reply_ts,
        )
