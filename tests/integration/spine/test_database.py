"""Migrations and tables on real SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from supportbot import db
from supportbot.models import (
    Dataset,
    Exchange,
    Feedback,
    ModelVersion,
    PairStatus,
    QAPair,
    Rating,
    RunStatus,
    SlackEvent,
    Surface,
    SyncRun,
    TrainingRun,
)

EXPECTED_TABLES = {
    "exchange",
    "question",
    "replica",
    "pair_event",
    "privacy_action",
    "channel_setting",
    "harvest_run",
    "model_change",
    "job_run",
    "lease",
    "feedback",
    "qa_pair",
    "dataset",
    "training_run",
    "model_version",
    "sync_run",
    "slack_event",
    "alembic_version",
}


def test_upgrade_creates_every_table_at_head(engine: sa.Engine) -> None:
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) == EXPECTED_TABLES
    assert db.current_revision(engine) == db.head_revision()


def test_upgrade_twice_is_a_no_op(engine: sa.Engine) -> None:
    db.upgrade(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()


def test_migrations_match_the_models(engine: sa.Engine) -> None:
    """A model change without a migration (or the reverse) fails here."""
    db.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_downgrade_to_base_and_back(engine: sa.Engine) -> None:
    db.upgrade(engine)
    db.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    db.upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) == EXPECTED_TABLES


@pytest.fixture
def migrated(engine: sa.Engine) -> sa.Engine:
    db.upgrade(engine)
    return engine


def test_every_table_round_trips(migrated: sa.Engine) -> None:
    with db.session_scope(migrated) as session:
        exchange = Exchange(
            surface=Surface.SLACK,
            conversation_id="C1:1700000000.000100",
            channel_id="C1",
            user_id="U1",
            question="How do I reset the router?",
            answer="Hold the reset button for 10 seconds [1].",
            sources=[{"title": "Router manual", "section": "Reset", "score": 0.82}],
            model_id="gpt-4o-mini",
            latency_ms=1234,
        )
        session.add(exchange)
        session.flush()
        session.add(Feedback(exchange_id=exchange.id, user_id="U2", rating=Rating.DOWN))
        session.add(
            QAPair(
                question=exchange.question,
                answer="Hold reset for 10 s.",
                context=[{"id": "doc-1"}],
                origin_exchange_id=exchange.id,
            )
        )
        dataset = Dataset(version="2026-11-22.1", train_path="t.jsonl", eval_path="e.jsonl")
        session.add(dataset)
        session.flush()
        run = TrainingRun(
            backend="local",
            base_model="SmolLM2-135M",
            dataset_id=dataset.id,
            hyperparameters={"lora_r": 8},
        )
        session.add(run)
        session.flush()
        session.add(ModelVersion(model_id="ft-1", backend="local", training_run_id=run.id))
        session.add(SyncRun(source="manuals", added=3, errors=[{"item": "a.pdf", "error": "x"}]))
        session.add(SlackEvent(event_id="Ev0123456"))

    with db.session_scope(migrated) as session:
        stored = session.exec(select(Exchange)).one()
        assert stored.surface is Surface.SLACK
        assert stored.sources[0]["score"] == pytest.approx(0.82)
        assert stored.created_at.utcoffset() is not None
        assert session.exec(select(Feedback)).one().rating is Rating.DOWN
        pair = session.exec(select(QAPair)).one()
        assert pair.status is PairStatus.CANDIDATE
        assert pair.context == [{"id": "doc-1"}]
        assert session.exec(select(TrainingRun)).one().status is RunStatus.PENDING
        assert session.exec(select(TrainingRun)).one().hyperparameters == {"lora_r": 8}
        assert session.exec(select(SyncRun)).one().errors[0]["item"] == "a.pdf"
        assert session.get(SlackEvent, "Ev0123456") is not None


def test_enums_are_stored_as_readable_strings(migrated: sa.Engine) -> None:
    with db.session_scope(migrated) as session:
        session.add(Exchange(surface=Surface.WEB, question="q"))
    with migrated.connect() as connection:
        assert connection.execute(sa.text("SELECT surface FROM exchange")).scalar_one() == "web"


def test_deleting_an_exchange_cascades_to_feedback_and_detaches_pairs(
    migrated: sa.Engine,
) -> None:
    with db.session_scope(migrated) as session:
        exchange = Exchange(surface=Surface.WEB, question="q", answer="a")
        session.add(exchange)
        session.flush()
        session.add(Feedback(exchange_id=exchange.id, rating=Rating.UP))
        session.add(QAPair(question="q", answer="a", origin_exchange_id=exchange.id))
    with migrated.begin() as connection:
        connection.execute(sa.text("DELETE FROM exchange"))
    with db.session_scope(migrated) as session:
        assert session.exec(select(Feedback)).all() == []
        assert session.exec(select(QAPair)).one().origin_exchange_id is None


def test_feedback_must_point_at_an_exchange(migrated: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), db.session_scope(migrated) as session:
        session.add(Feedback(exchange_id=999, rating=Rating.UP))


def test_duplicate_slack_event_is_rejected(migrated: sa.Engine) -> None:
    with db.session_scope(migrated) as session:
        session.add(SlackEvent(event_id="Ev1"))
    with pytest.raises(sa.exc.IntegrityError), db.session_scope(migrated) as session:
        session.add(SlackEvent(event_id="Ev1"))


def test_only_one_model_can_be_active(migrated: sa.Engine) -> None:
    with db.session_scope(migrated) as session:
        session.add(ModelVersion(model_id="base", backend="openai", is_active=True))
        session.add(ModelVersion(model_id="old", backend="local", is_active=False))
        session.add(ModelVersion(model_id="older", backend="local", is_active=False))
    with pytest.raises(sa.exc.IntegrityError), db.session_scope(migrated) as session:
        session.add(ModelVersion(model_id="ft-2", backend="local", is_active=True))


def test_timestamps_are_utc(migrated: sa.Engine) -> None:
    before = datetime.now(UTC)
    with db.session_scope(migrated) as session:
        session.add(SyncRun(source="feed"))
    with db.session_scope(migrated) as session:
        started = session.exec(select(SyncRun)).one().started_at
    assert started.utcoffset() == timedelta(0)
    assert abs((started - before).total_seconds()) < 60


def test_naive_datetimes_are_refused(migrated: sa.Engine) -> None:
    with (
        pytest.raises(sa.exc.StatementError, match="naive datetime"),
        db.session_scope(migrated) as session,
    ):
        session.add(SyncRun(source="feed", started_at=datetime(2026, 1, 1)))


@pytest.mark.postgres
def test_concurrent_upgrades_on_postgresql_are_serialised(postgres_url: str) -> None:
    """Replicas that start together must not run the same migration twice."""
    env = {**os.environ, "SUPPORTBOT_DATABASE_URL": postgres_url}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "supportbot", "db", "upgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    engine = db.create_db_engine(postgres_url)
    try:
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()


def test_scope_labels_become_json_and_back(engine: sa.Engine) -> None:
    """0009: scopes stored as display labels are converted to JSON, and back on downgrade."""
    db.upgrade(engine, "0008")
    labels = ["product: Nimbus Hub · kind: manual", "kind: update", "tags: a, b", None]
    with engine.begin() as connection:
        for number, label in enumerate(labels, start=1):
            connection.execute(
                sa.text(
                    "INSERT INTO exchange (id, surface, question, answer, sources, context,"
                    " timings, scope, abstained, escalated, created_at)"
                    " VALUES (:id, 'web', 'q', 'a', '[]', '[]', '{}', :scope, :no, :no, :at)"
                ),
                {"id": number, "scope": label, "no": False, "at": datetime.now(UTC)},
            )
    db.upgrade(engine)
    with Session(engine) as session:
        scopes = [e.scope for e in session.exec(select(Exchange).order_by(Exchange.id))]
    assert scopes == [
        {"products": ["Nimbus Hub"], "kinds": ["manual"]},
        {"kinds": ["update"]},
        {"tags": ["a", "b"]},
        None,
    ]
    db.downgrade(engine, "0008")
    with engine.connect() as connection:
        back = connection.execute(sa.text("SELECT scope FROM exchange ORDER BY id")).scalars()
        assert list(back) == labels
