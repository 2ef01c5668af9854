"""Who may run: the scheduler's leader, and one process per job.

APScheduler 3 has no cross-process locking, so two scheduler processes on one database
would run every job twice. Leadership is a PostgreSQL advisory lock held on a
dedicated connection (released by the server the moment the holder dies) or, on
SQLite, a lease row with an expiry the holder keeps renewing. Jobs also take a lease,
so `supportbot jobs run` never overlaps the scheduler's run of the same job.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from supportbot.models import Lease, utcnow

log = structlog.stdlib.get_logger(__name__)

LEADER_LOCK_ID = 0x5B0C_0002  # arbitrary, fixed: supportbot's scheduler leadership
LEADER_LEASE = "scheduler-leader"


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaseLock:
    """A lease row: held while unexpired; renew before it runs out."""

    def __init__(self, engine: Engine, name: str, seconds: float, holder: str | None = None):
        self.engine = engine
        self.name = name
        self.seconds = seconds
        self.holder = holder or holder_id()

    def acquire(self) -> bool:
        """Take or renew the lease; False while someone else holds an unexpired one."""
        now = utcnow()
        expires = now + timedelta(seconds=self.seconds)
        table = Lease.__table__  # type: ignore[attr-defined]
        try:
            with self.engine.begin() as connection:
                taken = connection.execute(
                    sa.update(table)
                    .where(table.c.name == self.name)
                    .where(sa.or_(table.c.holder == self.holder, table.c.expires_at < now))
                    .values(holder=self.holder, expires_at=expires)
                ).rowcount
                if taken:
                    return True
                exists = connection.execute(
                    sa.select(table.c.name).where(table.c.name == self.name)
                ).first()
                if exists:
                    return False
                connection.execute(
                    sa.insert(table).values(name=self.name, holder=self.holder, expires_at=expires)
                )
            return True
        except IntegrityError:  # another process inserted it first
            return False
        except SQLAlchemyError as error:
            log.warning("lease.unavailable", lease=self.name, error=type(error).__name__)
            return False

    renew = acquire

    def release(self) -> None:
        table = Lease.__table__  # type: ignore[attr-defined]
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    sa.delete(table)
                    .where(table.c.name == self.name)
                    .where(table.c.holder == self.holder)
                )
        except SQLAlchemyError:  # it expires on its own
            log.warning("lease.release_failed", lease=self.name)


class Leadership(Protocol):
    def acquire(self) -> bool: ...
    def renew(self) -> bool: ...
    def release(self) -> None: ...


class AdvisoryLeadership:
    """PostgreSQL: a session advisory lock on a connection kept open while leading."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        try:
            connection = self.engine.connect()
            got = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_ID}
            ).scalar()
            connection.commit()
        except SQLAlchemyError as error:
            log.warning("leader.unavailable", error=type(error).__name__)
            return False
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def renew(self) -> bool:
        """Still leading: the connection holding the lock is alive."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(sa.text("SELECT 1"))
            self._connection.commit()
        except SQLAlchemyError:
            self._connection = None  # the server released the lock with the session
            return False
        return True

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(
                sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK_ID}
            )
            self._connection.commit()
            self._connection.close()
        except SQLAlchemyError:
            pass  # closing the session releases it anyway
        self._connection = None


def leadership(engine: Engine, lease_seconds: float) -> Leadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLeadership(engine)
    return LeaseLock(engine, LEADER_LEASE, lease_seconds)
