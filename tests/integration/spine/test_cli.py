"""The `supportbot` command line, run as a real process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from supportbot import db
from tests.support.cli import supportbot
from tests.support.openai_fake import fake_openai

SLACK_TOKEN = "xoxb-9876543210-1234567890-QwErTyUiOpAsDf"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
LLM_KEY = "sk-live-0123456789abcdefghij"


def test_help_lists_every_command_group() -> None:
    result = supportbot("--help")
    assert result.returncode == 0
    for command in ("serve", "config", "db", "sync", "ask", "pairs", "train", "models"):
        assert command in result.stdout
    for command in ("scheduler", "jobs", "mcp"):
        assert command in result.stdout


def test_version() -> None:
    result = supportbot("--version")
    assert result.returncode == 0
    assert result.stdout.strip().startswith("supportbot 0.")


def test_config_masks_every_secret_in_output_and_logs(isolated_settings: Path) -> None:
    (isolated_settings / ".env").write_text(f"SUPPORTBOT_LLM_API_KEY={LLM_KEY}\n", encoding="utf-8")
    env = {
        "SUPPORTBOT_SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SUPPORTBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SUPPORTBOT_DATABASE_URL": "postgresql+psycopg://bot:hunter2hunter2@db:5432/sb",
        "SUPPORTBOT_LOG_LEVEL": "DEBUG",
        "SUPPORTBOT_LOG_FORMAT": "json",
    }
    for args in (["config"], ["config", "--json"]):
        result = supportbot(*args, env=env)
        assert result.returncode == 0, result.stderr
        everything = result.stdout + result.stderr
        for secret in (SLACK_TOKEN, SIGNING_SECRET, LLM_KEY, "hunter2hunter2"):
            assert secret not in everything

    rows = {
        row["variable"]: row for row in json.loads(supportbot("config", "--json", env=env).stdout)
    }
    assert rows["SUPPORTBOT_SLACK_BOT_TOKEN"] == {
        "variable": "SUPPORTBOT_SLACK_BOT_TOKEN",
        "value": "**********",
        "source": "environment",
    }
    assert rows["SUPPORTBOT_LLM_API_KEY"]["source"] == ".env file"
    assert rows["SUPPORTBOT_SLACK_APP_TOKEN"]["value"] == "(not set)"
    assert (
        rows["SUPPORTBOT_DATABASE_URL"]["value"] == "postgresql+psycopg://bot:**********@db:5432/sb"
    )
    assert rows["SUPPORTBOT_DOCUMENT_STORE"] == {
        "variable": "SUPPORTBOT_DOCUMENT_STORE",
        "value": "memory",
        "source": "default",
    }


def test_invalid_configuration_is_a_clear_error() -> None:
    result = supportbot("config", env={"SUPPORTBOT_DOCUMENT_STORE": "elastic"})
    assert result.returncode == 2
    assert "SUPPORTBOT_DOCUMENT_STORE" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_default_sqlite_database(isolated_settings: Path) -> None:
    first = supportbot("db", "upgrade")
    assert first.returncode == 0, first.stderr
    database = isolated_settings / "data" / "supportbot.db"
    assert database.is_file()
    assert "upgraded" in first.stdout
    second = supportbot("db", "upgrade")
    assert "up to date" in second.stdout
    current = supportbot("db", "current")
    assert current.returncode == 0
    assert f"revision {db.head_revision()}" in current.stdout


@pytest.mark.postgres
def test_db_upgrade_on_postgresql(postgres_url: str) -> None:
    result = supportbot("db", "upgrade", env={"SUPPORTBOT_DATABASE_URL": postgres_url})
    assert result.returncode == 0, result.stderr
    engine = db.create_db_engine(postgres_url)
    try:
        assert "exchange" in sa.inspect(engine).get_table_names()
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()


def test_db_upgrade_reports_an_unreachable_database_without_leaking_it() -> None:
    url = "postgresql+psycopg://bot:s3cr3t-pw@127.0.0.1:1/none"
    result = supportbot("db", "upgrade", env={"SUPPORTBOT_DATABASE_URL": url})
    assert result.returncode == 1
    assert "cannot migrate" in result.stderr
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_scheduler_refuses_a_bad_schedule_before_starting() -> None:
    result = supportbot("scheduler", env={"SUPPORTBOT_SCHEDULE_HARVEST": "every so often"})
    assert result.returncode == 2
    assert "invalid schedule: harvest: 'every so often' is not" in result.stderr


def test_sync_indexes_the_sample_knowledge_then_search_finds_it(isolated_settings: Path) -> None:
    first = supportbot("sync")
    assert first.returncode == 0, first.stderr
    assert "Sync summary" in first.stdout
    assert "nimbus-manual" in first.stdout
    assert (isolated_settings / "data" / "document_store.json").is_file()

    again = supportbot("sync", "--source", "nimbus-releases")
    assert again.returncode == 0
    assert "nimbus-manual" not in again.stdout

    found = supportbot("search", "how do I factory reset the hub", "--top-k", "3")
    assert found.returncode == 0, found.stderr
    assert "Factory reset" in found.stdout

    engine = db.create_db_engine(f"sqlite:///{isolated_settings / 'data' / 'supportbot.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT source, added FROM sync_run")).all()
    finally:
        engine.dispose()
    assert ("nimbus-manual", 5) in rows
    assert ("nimbus-releases", 0) in rows


def test_sync_reports_broken_items_with_exit_status_1(isolated_settings: Path) -> None:
    manuals = isolated_settings / "docs"
    manuals.mkdir()
    (manuals / "good.md").write_text("# Good\n\nThe blue button pairs devices.\n", encoding="utf-8")
    (manuals / "bad.pdf").write_bytes(b"%PDF-1.4 not really")
    (isolated_settings / "data").mkdir()
    (isolated_settings / "data" / "sources.yaml").write_text(
        "sources:\n  - {name: docs, kind: manual, type: folder, path: ../docs}\n", encoding="utf-8"
    )
    result = supportbot("sync")
    assert result.returncode == 1
    assert "docs:bad.pdf" in result.stderr
    assert "no text could be extracted" in result.stderr


def test_sync_rejects_unknown_sources_and_bad_files(isolated_settings: Path) -> None:
    unknown = supportbot("sync", "--source", "nope")
    assert unknown.returncode == 2
    assert "no source named nope" in unknown.stderr
    (isolated_settings / "broken.yaml").write_text("sources: [", encoding="utf-8")
    broken = supportbot("sync", env={"SUPPORTBOT_SOURCES_FILE": "broken.yaml"})
    assert broken.returncode == 2
    assert "not valid YAML" in broken.stderr


def test_ask_refuses_an_oversized_question_clearly(isolated_settings: Path) -> None:
    assert supportbot("sync").returncode == 0
    result = supportbot("ask", "why " * 1500)
    assert result.returncode == 2
    assert "too long" in result.stderr
    assert "Traceback" not in result.stderr


def test_search_on_an_empty_knowledge_base_says_what_to_do() -> None:
    result = supportbot("search", "anything")
    assert result.returncode == 1
    assert "supportbot sync" in result.stderr


def test_ask_answers_from_the_sample_knowledge_without_and_with_an_llm(
    isolated_settings: Path,
) -> None:

    assert supportbot("sync").returncode == 0
    plain = supportbot("ask", "How do I factory reset the hub?")
    assert plain.returncode == 0, plain.stderr
    assert "Excerpts from the docs" in plain.stdout
    assert "Sources" in plain.stdout
    # The release note that changed the reset leads; the manual's section follows.
    assert "[1] Firmware 3.2: Matter 1.4 and faster Factory reset" in plain.stdout
    assert "[2] Troubleshooting Nimbus Hub" in plain.stdout

    with fake_openai() as fake:
        fake.reply = lambda _r: "Hold Reset with a paper clip for 15 seconds [1]."
        env = {"SUPPORTBOT_LLM_BASE_URL": fake.base_url, "SUPPORTBOT_LLM_MODEL": "tiny"}
        result = supportbot("ask", "How do I factory reset the hub?", "--json", env=env)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["mode"] == "generated"
    assert payload["text"] == "Hold Reset with a paper clip for 15 seconds [1]."
    assert payload["citations"][0]["number"] == 1
    assert payload["model_id"] == "tiny"
    assert payload["timings_ms"]["total_ms"] > 0

    engine = db.create_db_engine(f"sqlite:///{isolated_settings / 'data' / 'supportbot.db'}")
    try:
        with engine.connect() as connection:
            modes = connection.execute(
                sa.text("SELECT answer_mode, surface FROM exchange ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    assert modes == [("excerpts", "cli"), ("generated", "cli")]
