"""Per-channel behaviour: auto-answer on or off, and what to search.

Configuration (`SUPPORTBOT_SLACK_SUPPORT_CHANNELS`, `SUPPORTBOT_SLACK_CHANNEL_SETTINGS`)
gives the defaults; a support lead can override them from Slack with `/supportbot`,
stored in `channel_setting`. A field a lead never set keeps following the config.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from knowledge.documents import DocumentKind
from knowledge.scope import Scope
from supportbot.db import session_scope
from supportbot.models import ChannelSetting, utcnow
from supportbot.settings import ChannelConfig, ExternalPolicy, Settings

FIELDS = ("kinds", "tags", "products")
CACHE_S = 10.0  # how soon another replica sees a lead's change

USAGE = (
    "*/supportbot* — channel settings (support leads only)\n"
    "• `/supportbot show` — what the bot does in this channel\n"
    "• `/supportbot auto on|off` — answer questions here without a mention\n"
    "• `/supportbot kinds manual,update` — which kinds of source to search\n"
    "• `/supportbot tags billing,setup` — only sources with these tags\n"
    "• `/supportbot products Nimbus Hub` — only these products' sources\n"
    "• `/supportbot reset` — back to the configured defaults\n"
    "• `/supportbot model [status|promote MODEL|rollback]` — the answering model (leads)\n"
    "Use `-` as the value to clear a list, e.g. `/supportbot tags -`."
)


@dataclass(frozen=True)
class ChannelPolicy:
    auto_answer: bool
    scope: Scope
    external_users: ExternalPolicy = "answer"  # askers from another organisation


class ChannelSettings:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine
        self.external_users = settings.slack_external_users
        self.configured: dict[str, ChannelConfig] = dict(settings.slack_channel_settings)
        for channel_id in settings.slack_support_channels:
            config = self.configured.get(channel_id, ChannelConfig())
            if config.auto_answer is None:
                self.configured[channel_id] = config.model_copy(update={"auto_answer": True})
        self._cache: dict[str | None, tuple[float, ChannelPolicy]] = {}

    def policy(self, channel_id: str | None) -> ChannelPolicy:
        """The channel's policy, read from the database at most every CACHE_S seconds
        (every message in every channel asks; lead changes are rare)."""
        now = time.monotonic()
        cached = self._cache.get(channel_id)
        if cached is not None and now - cached[0] < CACHE_S:
            return cached[1]
        policy = self._load(channel_id)
        self._cache[channel_id] = (now, policy)
        return policy

    def _load(self, channel_id: str | None) -> ChannelPolicy:
        config = self.configured.get(channel_id or "", ChannelConfig())
        override = None
        if channel_id:
            with Session(self.engine) as session:
                override = session.get(ChannelSetting, channel_id)

        def pick(name: str) -> list[str] | None:
            value = getattr(override, name, None) if override else None
            return value if value is not None else getattr(config, name)

        auto = override.auto_answer if override and override.auto_answer is not None else None
        return ChannelPolicy(
            auto_answer=bool(auto if auto is not None else config.auto_answer),
            scope=Scope(**{name: tuple(pick(name) or ()) for name in FIELDS}),
            external_users=config.external_users or self.external_users,
        )

    def update(self, channel_id: str, user_id: str, **changes: object) -> None:
        with session_scope(self.engine) as session:
            row = session.get(ChannelSetting, channel_id) or ChannelSetting(channel_id=channel_id)
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_by = user_id
            row.updated_at = utcnow()
            session.add(row)
        self._cache.pop(channel_id, None)

    def reset(self, channel_id: str) -> None:
        with session_scope(self.engine) as session:
            row = session.get(ChannelSetting, channel_id)
            if row is not None:
                session.delete(row)
        self._cache.pop(channel_id, None)


def describe(policy: ChannelPolicy) -> str:
    scope = policy.scope.label or "all sources"
    auto = "on" if policy.auto_answer else "off (mention me to ask)"
    return f"Auto-answer: *{auto}*\nSearching: *{scope}*"


def parse_command(text: str) -> tuple[str, dict[str, object]]:
    """`/supportbot` text → (action, changes). Raises ValueError with a usage hint."""
    words = text.strip().split(maxsplit=1)
    if not words or words[0] in ("help", "show", "reset"):
        return (words[0] if words else "help"), {}
    action, argument = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if action == "model":
        verb, _, model_id = (argument or "status").partition(" ")
        if verb not in ("status", "promote", "rollback") or (verb == "promote") != bool(model_id):
            raise ValueError("Use `/supportbot model status`, `promote MODEL` or `rollback`.")
        return "model", {"verb": verb, "model_id": model_id.strip() or None}
    if action == "auto":
        if argument.lower() not in ("on", "off"):
            raise ValueError("Use `/supportbot auto on` or `/supportbot auto off`.")
        return "update", {"auto_answer": argument.lower() == "on"}
    if action in FIELDS:
        if not argument:
            raise ValueError(f"Give a comma-separated list, e.g. `/supportbot {action} a,b`.")
        values = [] if argument == "-" else [v.strip() for v in argument.split(",") if v.strip()]
        if action == "kinds":
            unknown = set(values) - set(DocumentKind)
            if unknown:
                raise ValueError(f"Unknown kind {sorted(unknown)}: use manual, update.")
        return "update", {action: values}
    raise ValueError(f"I don't know `{action}`.\n{USAGE}")
