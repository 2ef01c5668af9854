"""Database engine, sessions and migrations.

SQLite (the default, a file in the data directory) and PostgreSQL are both first-class;
the schema is only ever created by Alembic migrations so the two cannot drift apart.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Engine, make_url
from sqlmodel import Session

from supportbot import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def _prepare_sqlite_file(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Enforce foreign keys (off by default in SQLite), let the bot and the scheduler
    # share the file (WAL) and wait for locks instead of failing at once.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_db_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for the URL, tuned for its backend."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _prepare_sqlite_file(url)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    if url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("supportbot") / "migrations"))
    # env.py reuses this engine instead of building its own from a URL string, so
    # passwords never pass through ConfigParser interpolation.
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config())
    return script.get_current_head()


def autogenerate_revision(message: str) -> Path:
    """Write a migration for the difference between the models and the current head.

    Compares against a scratch SQLite database upgraded to head, so no real database
    is needed. Returns the new migration file.
    """
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_db_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
        try:
            upgrade(engine)
            script = command.revision(alembic_config(engine), message=message, autogenerate=True)
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise RuntimeError("alembic did not produce exactly one revision")
    return Path(script.path)


def safe_url(database_url: str) -> str:
    """The URL with its password masked, for logs and status output."""
    return make_url(database_url).render_as_string(hide_password=True)
