"""The question ledger on SQLite and PostgreSQL: claims, orphans and exactly-once
take-over between replicas."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col

from bot.delivery import Ledger
from finetune_data.privacy import Selector, expire, forget
from supportbot import db
from supportbot.models import QuestionRecord, QuestionState, Replica, Surface, utcnow


def _question(text: str = "How do I reset it?") -> QuestionRecord:
    return QuestionRecord(
        surface=Surface.SLACK, text=text, channel_id="C1", thread_ts="1.0", message_ts="1.0"
    )


def test_a_claimed_question_is_recorded_once(engine: sa.Engine) -> None:
    db.upgrade(engine)
    ledger = Ledger(engine, "replica-a", stale_after_s=30)
    first = ledger.receive(_question(), ["Ev1", "msg:C1:1.0"])
    assert first is not None
    assert ledger.receive(_question(), ["Ev1"]) is None, "Slack's retry"
    assert ledger.receive(_question(), ["Ev2", "msg:C1:1.0"]) is None, "same message, new event"
    assert ledger.get(first).owner == "replica-a"


def test_only_a_dead_or_stopped_replicas_open_questions_are_orphans(engine: sa.Engine) -> None:
    db.upgrade(engine)
    alive, dead, stopped = (Ledger(engine, name, 30) for name in ("alive", "dead", "stopped"))
    for ledger in (alive, dead, stopped):
        ledger.heartbeat()
    mine = alive.receive(_question("alive's"))
    lost = dead.receive(_question("dead's"))
    left = stopped.receive(_question("stopped's"))
    done = dead.receive(_question("dead's, answered"))
    assert done is not None
    dead.finish(done, QuestionState.ANSWERED)
    stopped.leave()
    with engine.begin() as connection:  # the dead one went silent a minute ago
        connection.execute(
            sa.update(Replica)
            .where(col(Replica.id) == "dead")
            .values(heartbeat_at=utcnow() - timedelta(seconds=60))
        )
    orphans = {q.id for q in alive.orphans()}
    assert orphans == {lost, left}
    assert mine not in orphans


def test_two_replicas_racing_for_an_orphan_take_it_once(engine: sa.Engine) -> None:
    db.upgrade(engine)
    gone = Ledger(engine, "gone", 30)
    gone.heartbeat()
    gone.receive(_question())
    gone.leave()
    racers = [Ledger(engine, f"racer-{i}", 30) for i in range(4)]
    for racer in racers:
        racer.heartbeat()
    [orphan] = racers[0].orphans()
    with ThreadPoolExecutor(4) as pool:
        won = list(pool.map(lambda racer: racer.take_over(orphan.model_copy()), racers))
    assert won.count(True) == 1
    winner = racers[won.index(True)]
    record = winner.get(orphan.id)
    assert record.owner == winner.replica_id
    assert record.attempts == 1
    loser = racers[won.index(False)]
    assert not loser.finish(orphan.id, QuestionState.ANSWERED), "only the owner ends it"
    assert winner.finish(orphan.id, QuestionState.ANSWERED)
    assert racers[0].orphans() == []


def test_forgetting_a_person_and_retention_reach_the_delivery_records(engine: sa.Engine) -> None:

    db.upgrade(engine)
    ledger = Ledger(engine, "replica-a", 30)
    theirs = _question("my card is 4111 1111 1111 1111")
    theirs.user_id = "U0GONE"
    ledger.receive(theirs)
    old = ledger.receive(_question("an old answered one"))
    assert old is not None
    ledger.finish(old, QuestionState.ANSWERED)
    with engine.begin() as connection:
        connection.execute(
            sa.update(QuestionRecord)
            .where(col(QuestionRecord.id) == old)
            .values(received_at=utcnow() - timedelta(days=120))
        )
    assert forget(engine, Selector("slack-user", "U0GONE"), "test")["question_records"] == 1
    assert expire(engine, days=90)["question_records_deleted"] == 1
    assert ledger.get(old) is None
