"""Exactly-once handling of Slack events across retries, restarts and replicas.

Slack re-delivers an event it thinks we missed (same `event_id`, with
`X-Slack-Retry-Num`), and one message can arrive as two events (`message` and
`app_mention`). Each handler claims keys in the database before doing any work; the
primary key makes the claim atomic on SQLite and PostgreSQL alike, whichever replica
gets there first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.delivery import claim_keys
from supportbot.models import SlackEvent, utcnow


def claim(engine: Engine, keys: Iterable[str]) -> bool:
    """True if every key was unclaimed (and now is claimed); False for a repeat."""
    try:
        with engine.begin() as connection:
            claim_keys(connection, list(keys))
    except sa.exc.IntegrityError:
        return False
    return True


def prune(engine: Engine, keep: timedelta = timedelta(days=7)) -> int:
    """Forget claims older than `keep` (Slack stops retrying after minutes); returns
    how many were removed. Keeps the table small on long-running installs."""
    cutoff = utcnow() - keep
    with engine.begin() as connection:
        result = connection.execute(sa.delete(SlackEvent).where(SlackEvent.received_at < cutoff))
    return result.rowcount or 0


def message_key(channel_id: str, ts: str) -> str:
    return f"msg:{channel_id}:{ts}"
