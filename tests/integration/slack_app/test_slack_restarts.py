"""Durable answering with real processes: SIGKILL, SIGTERM and a dead replica lose no
question and answer none twice.

Each server runs in its own process (`served_process.py`) on one shared database;
every answer takes seconds, so the questions are in flight when the signal lands.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from supportbot import db
from supportbot.models import Exchange, QuestionRecord, QuestionState
from supportbot.settings import Settings
from tests.support.app_server import free_port
from tests.support.served_process import ServedProcess
from tests.support.slack_fake import FakeSlack, fake_slack
from tests.support.slack_harness import SlackBotUnderTest, mention_event

QUESTIONS = 20
ENDED = {QuestionState.ANSWERED, QuestionState.HANDED_OFF, QuestionState.FAILED}


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = db.create_db_engine(url)
    db.upgrade(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with fake_slack() as api:
        yield api


class Servers:
    def __init__(self, url: str, engine: sa.Engine, fake: FakeSlack, tmp_path: Path) -> None:
        self.url, self.engine, self.fake, self.tmp_path = url, engine, fake, tmp_path
        self.started: list[ServedProcess] = []

    def start(self, answer_s: float = 3.0, grace_s: float = 10.0) -> SlackBotUnderTest:
        server = ServedProcess(
            self.url, f"{self.fake.base_url}/api/", free_port(), answer_s, grace_s, self.tmp_path
        )
        self.started.append(server)
        settings = Settings(database_url=self.url, data_dir=self.tmp_path)
        return SlackBotUnderTest(server.url, self.fake, settings, self.engine)

    def close(self) -> None:
        for server in self.started:
            server.close()


@pytest.fixture
def servers(database: tuple[str, sa.Engine], fake: FakeSlack, tmp_path: Path) -> Iterator[Servers]:
    url, engine = database
    running = Servers(url, engine, fake, tmp_path)
    yield running
    running.close()


def ask_many(bot: SlackBotUnderTest, count: int = QUESTIONS) -> list[dict]:
    events = [mention_event(f"How do I reset hub number {i}?") for i in range(count)]
    for event in events:
        assert bot.event(event).status_code == 200
    return events


def in_flight(fake: FakeSlack, count: int) -> None:
    """Every question has its 👀: each was heard and is being answered."""
    fake.wait_for(lambda: len(fake.called("reactions.add")) >= count, what="questions in flight")


def records(engine: sa.Engine) -> list[QuestionRecord]:
    with Session(engine) as session:
        return list(session.exec(select(QuestionRecord)).all())


def wait_until_all_ended(fake: FakeSlack, engine: sa.Engine, count: int) -> None:
    fake.wait_for(
        lambda: sum(r.state in ENDED for r in records(engine)) >= count,
        timeout=120,
        what=f"{count} questions to end",
    )


def answers_per_thread(bot: SlackBotUnderTest, events: list[dict]) -> list[int]:
    return [len(bot.replies(e["channel"], e["ts"])) for e in events]


def assert_each_answered_once(bot: SlackBotUnderTest, events: list[dict]) -> None:
    assert answers_per_thread(bot, events) == [1] * len(events)
    assert Counter(r.state for r in records(bot.engine)) == {QuestionState.ANSWERED: len(events)}
    with Session(bot.engine) as session:
        assert len(session.exec(select(Exchange)).all()) == len(events)
    removed = {args["timestamp"] for args in bot.fake.called("reactions.remove")}
    assert removed >= {e["ts"] for e in events}, "every 👀 is taken back"


def test_sigkill_with_questions_in_flight_loses_none(servers: Servers) -> None:
    first = servers.start(answer_s=3.0)
    events = ask_many(first)
    in_flight(servers.fake, QUESTIONS)
    servers.started[0].kill()
    answered_before = sum(answers_per_thread(first, events))
    assert answered_before < QUESTIONS, "the kill landed while questions were in flight"

    restarted = servers.start(answer_s=0.5)
    for event in events[:5]:  # Slack retries what it saw no answer for: still answered once
        assert restarted.event(event, retry=1).status_code == 200
    wait_until_all_ended(servers.fake, servers.engine, QUESTIONS)
    assert_each_answered_once(restarted, events)
    assert max(r.attempts for r in records(servers.engine)) == 1


def test_sigterm_finishes_in_flight_answers(servers: Servers) -> None:
    bot = servers.start(answer_s=1.0, grace_s=20.0)
    events = ask_many(bot)
    in_flight(servers.fake, QUESTIONS)
    servers.started[0].terminate()
    # Nothing was left: the grace period was enough, no restart needed.
    assert answers_per_thread(bot, events) == [1] * QUESTIONS
    assert_each_answered_once(bot, events)


def test_sigterm_leaves_what_it_cannot_finish_to_the_next_process(servers: Servers) -> None:
    bot = servers.start(answer_s=4.0, grace_s=1.0)
    events = ask_many(bot)
    in_flight(servers.fake, QUESTIONS)
    servers.started[0].terminate()
    assert sum(answers_per_thread(bot, events)) < QUESTIONS
    servers.start(answer_s=0.5)
    wait_until_all_ended(servers.fake, servers.engine, QUESTIONS)
    assert_each_answered_once(bot, events)


def test_a_replica_finishes_the_questions_of_one_that_died(servers: Servers) -> None:
    doomed = servers.start(answer_s=3.0)
    survivor = servers.start(answer_s=0.5)
    events = ask_many(doomed)
    in_flight(servers.fake, QUESTIONS)
    servers.started[0].kill()
    wait_until_all_ended(servers.fake, servers.engine, QUESTIONS)
    assert_each_answered_once(survivor, events)
    owners = {r.owner for r in records(servers.engine)}
    assert len(owners) == 1, "the survivor took every question over"
