"""Exactly-once handling of Slack events across retries, restarts and replicas.

Slack re-delivers an event it thinks we missed (same `event_id`, with
`X-Slack-Retry-Num`), and one message can arrive as two events (`message` and
`app_mention`). Each handler claims keys in the database before doing any work; the
primary key makes the claim atomic on SQLite and PostgreSQL alike, whichever replica
gets there first.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from supportbot.models import SlackEvent


def claim(engine: Engine, keys: Iterable[str]) -> bool:
    """True if every key was unclaimed (and now is claimed); False for a repeat."""
    keys = [key[:64] for key in keys if key]
    try:
        with engine.begin() as connection:
            for key in keys:
                connection.execute(sa.insert(SlackEvent).values(event_id=key))
    except sa.exc.IntegrityError:
        return False
    return True


def message_key(channel_id: str, ts: str) -> str:
    return f"msg:{channel_id}:{ts}"
