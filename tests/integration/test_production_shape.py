"""The production drill: compose.yaml's shape in real processes, and its outages.

PostgreSQL + Weaviate + `supportbot db upgrade` + two `supportbot serve` replicas + one
`supportbot scheduler` (tests/support/production.py). The drill's scenarios run in
order on one stack, as traffic would: questions spread over both replicas with Slack's
retries, a source changed on disk, Weaviate killed and restarted, PostgreSQL stopped
and started, each without restarting the bot.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.slack.feedback import NOT_SAVED, THANKS
from bot.slack.handoff import TOLD_ASKER
from knowledge.answering import KNOWLEDGE_UNAVAILABLE_TEXT
from knowledge.stores import open_weaviate_store
from supportbot import db
from supportbot.models import Exchange, Feedback, QuestionRecord, QuestionState, Rating
from tests.support.openai_fake import FakeOpenAI, fake_openai
from tests.support.production import (
    LLM_TIMEOUT_S,
    PostgresServer,
    Stack,
    WeaviateServer,
    wait_until,
)
from tests.support.slack_fake import FakeSlack, fake_slack
from tests.support.slack_harness import SlackBotUnderTest, block_action, mention_event
from tests.support.stores import WEAVIATE_MARKS

pytestmark = [*WEAVIATE_MARKS, pytest.mark.postgres, pytest.mark.timeout(600)]

ENDED = {QuestionState.ANSWERED, QuestionState.HANDED_OFF, QuestionState.FAILED}
DESCALING = """# Descaling

Descale the Zephyr kettle every month: fill it with water and two spoons of citric
acid, boil, leave it for an hour, then rinse it twice with fresh water.
"""
FILTER = """# Limescale filter

The Zephyr kettle's limescale filter sits behind the spout. Pull it up to remove it,
rinse it under the tap and push it back until it clicks.
"""
NIGHT_MODE = """# Night mode

Zephyr firmware 4 adds a night mode: hold the moon button for three seconds and the
kettle boils without beeping and with its light dimmed until morning.
"""
VINEGAR = "Can I descale the Zephyr kettle with vinegar?"


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as api:
        yield api


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    with fake_openai() as api:
        api.reply = lambda _request: "Here is what the manual says [1]."
        yield api


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    (root / "manuals").mkdir()
    (root / "manuals/descaling.md").write_text(DESCALING, encoding="utf-8")
    (root / "manuals/filter.md").write_text(FILTER, encoding="utf-8")
    (root / "sources.yaml").write_text(
        "sources:\n"
        "  - name: zephyr-manual\n"
        "    kind: manual\n"
        "    type: folder\n"
        f"    path: {root / 'manuals'}\n"
        "    product: Zephyr\n"
        "    base_url: https://docs.example/zephyr\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def weaviate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeaviateServer]:
    root = tmp_path_factory.mktemp("drill-weaviate")
    server = WeaviateServer(root / "data", root / "run")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def engine(postgres: PostgresServer) -> Iterator[sa.Engine]:
    engine = db.create_db_engine(postgres.url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    postgres: PostgresServer,
    weaviate: WeaviateServer,
    slack: FakeSlack,
    llm: FakeOpenAI,
    workspace: Path,
    engine: sa.Engine,
) -> Iterator[Stack]:
    running = Stack(
        tmp_path_factory.mktemp("drill"),
        postgres,
        weaviate,
        slack,
        llm.base_url,
        workspace / "sources.yaml",
    )
    try:
        running.supportbot("db", "upgrade")  # compose's one-shot `migrate` service
        running.scheduler(sync_manual="every 2s")
        wait_until(lambda: _chunks_with(weaviate, "citric acid"), 180, "the first sync")
        running.serve(engine)
        running.serve(engine)
        yield running
    finally:
        running.close()


def _chunks_with(weaviate: WeaviateServer, text: str) -> bool:
    store = open_weaviate_store(weaviate.url, grpc_port=weaviate.grpc_port)
    try:
        return any(text in " ".join((d.content or "").split()) for d in store.filter_documents())
    except Exception:  # the collection does not exist before the first sync
        return False
    finally:
        store.client.close()


def _records(engine: sa.Engine, events: list[dict]) -> list[QuestionRecord]:
    stamps = [e["ts"] for e in events]
    with Session(engine) as session:
        query = select(QuestionRecord).where(col(QuestionRecord.message_ts).in_(stamps))
        return list(session.exec(query).all())


def _exchanges(engine: sa.Engine, events: list[dict]) -> list[Exchange]:
    stamps = [e["ts"] for e in events]
    with Session(engine) as session:
        query = select(Exchange).where(col(Exchange.message_ts).in_(stamps))
        return list(session.exec(query.order_by(col(Exchange.id))).all())


def _ask(replicas: list[SlackBotUnderTest], questions: list[str]) -> list[dict]:
    """Each question to the next replica in turn; every request acknowledged, no 5xx."""
    events = []
    for i, text in enumerate(questions):
        event = mention_event(text)
        assert replicas[i % len(replicas)].event(event).status_code == 200
        events.append(event)
    return events


def _wait_ended(engine: sa.Engine, events: list[dict], timeout: float = 120) -> None:
    def ended() -> bool:
        records = _records(engine, events)
        return len(records) == len(events) and all(r.state in ENDED for r in records)

    wait_until(ended, timeout, f"{len(events)} questions to end")


def _replies(bot: SlackBotUnderTest, event: dict) -> list[dict]:
    return bot.replies(event["channel"], event["ts"])


def _shown(slack: FakeSlack, exchange: Exchange) -> str:
    """Everything Slack was sent for an exchange's reply: posts, updates, stream parts."""
    calls = [
        call.args
        for call in slack.calls
        if call.args.get("thread_ts") == exchange.thread_ts
        or (exchange.reply_ts and call.args.get("ts") == exchange.reply_ts)
    ]
    return json.dumps(calls, ensure_ascii=False)


def _ready(replica: SlackBotUnderTest) -> dict:
    response = httpx.get(f"{replica.url}/readyz", timeout=10)
    assert response.status_code in (200, 503)
    return response.json()


def test_questions_spread_over_replicas_with_retries_are_answered_once(
    stack: Stack, engine: sa.Engine
) -> None:
    first, second = stack.replicas
    events = []
    for i in range(8):
        event = mention_event(f"How do I descale the Zephyr kettle? (asker {i})")
        event_id = f"Ev{uuid.uuid4().hex[:10].upper()}"
        home, other = (first, second) if i % 2 == 0 else (second, first)
        assert home.event(event, event_id=event_id).status_code == 200
        # Slack saw no ack in time and retried at the other replica.
        assert other.event(event, event_id=event_id, retry=1).status_code == 200
        events.append(event)
    _wait_ended(engine, events)

    assert [len(_replies(first, e)) for e in events] == [1] * len(events)
    records = _records(engine, events)
    assert {r.state for r in records} == {QuestionState.ANSWERED}
    assert len({r.owner for r in records}) == 2, "both replicas answered"
    exchanges = _exchanges(engine, events)
    assert len(exchanges) == len(events)
    for exchange in exchanges:
        assert not exchange.abstained
        assert exchange.error is None
        assert "descaling" in json.dumps(exchange.sources).lower()


def test_a_source_synced_by_the_scheduler_is_cited_by_both_replicas(
    stack: Stack, engine: sa.Engine, weaviate: WeaviateServer, workspace: Path
) -> None:
    (workspace / "manuals/night-mode.md").write_text(NIGHT_MODE, encoding="utf-8")
    wait_until(lambda: _chunks_with(weaviate, "moon button"), 60, "the scheduler's sync")

    events = _ask(stack.replicas, ["How do I turn on night mode?"] * 2)
    _wait_ended(engine, events)
    records = _records(engine, events)
    assert len({r.owner for r in records}) == 2, "one answer from each replica"
    for exchange in _exchanges(engine, events):
        assert not exchange.abstained
        assert "night-mode" in json.dumps(exchange.sources), exchange.sources


def test_an_approved_pair_is_found_by_both_replicas_at_once(
    stack: Stack, engine: sa.Engine, workspace: Path
) -> None:
    pairs = workspace / "pairs.jsonl"
    answer = "No: vinegar taints the water; use citric acid."
    pair = {"question": VINEGAR, "answer": answer, "product": "Zephyr"}
    pairs.write_text(json.dumps(pair) + "\n", encoding="utf-8")
    stack.supportbot("pairs", "import", str(pairs), "--by", "drill-lead")  # a lead, elsewhere

    events = _ask(stack.replicas, [VINEGAR] * 2)
    _wait_ended(engine, events)
    assert len({r.owner for r in _records(engine, events)}) == 2
    for exchange in _exchanges(engine, events):
        kinds = [source.get("kind") for source in exchange.sources]
        assert "verified_answer" in kinds, exchange.sources


def test_weaviate_down_apologises_hands_off_and_recovers_without_a_restart(
    stack: Stack, engine: sa.Engine, weaviate: WeaviateServer
) -> None:
    weaviate.kill()
    try:
        started = time.monotonic()
        events = _ask(stack.replicas, [f"How do I clean the filter? ({i})" for i in range(4)])
        _wait_ended(engine, events, timeout=60)
        took = time.monotonic() - started
        assert took < LLM_TIMEOUT_S, f"{took:.1f}s: a dead store must not stall answers"

        # The apology, then the hand-off's note to the asker: nothing else, nothing twice.
        assert [len(_replies(stack.replicas[0], e)) for e in events] == [2] * len(events)
        assert {r.state for r in _records(engine, events)} == {QuestionState.HANDED_OFF}
        for exchange in _exchanges(engine, events):
            assert exchange.abstained
            assert exchange.escalated
            assert exchange.error == "knowledge base unavailable"
            assert KNOWLEDGE_UNAVAILABLE_TEXT in _shown(stack.slack, exchange)
            assert TOLD_ASKER in _shown(stack.slack, exchange)
        for replica in stack.replicas:
            report = wait_until(
                lambda r=replica: (
                    (b := _ready(r))["checks"]["store"].startswith("unreachable") and b
                ),
                15,
                "/readyz to see the store down",
            )
            assert report["status"] == "degraded"
    finally:
        weaviate.start()

    for replica in stack.replicas:
        wait_until(lambda r=replica: _ready(r)["checks"]["store"] == "ok", 60, "the store back")
    events = _ask(stack.replicas, ["Where is the limescale filter?"] * 2)
    _wait_ended(engine, events)
    for exchange in _exchanges(engine, events):
        assert not exchange.abstained
        assert exchange.error is None
        assert "filter" in json.dumps(exchange.sources)


def _click(replica: SlackBotUnderTest, exchange: Exchange, user_id: str) -> None:
    message = {"type": "message", "ts": exchange.reply_ts, "thread_ts": exchange.thread_ts}
    payload = block_action("feedback_up", str(exchange.id), user_id=user_id, message=message)
    assert replica.interaction(payload).status_code == 200


def _told(slack: FakeSlack, user_id: str) -> list[str]:
    return [c["text"] for c in slack.called("chat.postEphemeral") if c.get("user") == user_id]


def _stored_ratings(engine: sa.Engine, user_ids: list[str]) -> set[str]:
    with Session(engine) as session:
        rows = session.exec(select(Feedback).where(col(Feedback.user_id).in_(user_ids))).all()
        return {row.user_id for row in rows if row.rating is Rating.UP and row.user_id}


def test_postgres_restart_rejects_ratings_out_loud_and_the_bot_reconnects(
    stack: Stack, engine: sa.Engine, postgres: PostgresServer, slack: FakeSlack
) -> None:
    events = _ask(stack.replicas, ["How often should I descale?"] * 4)
    _wait_ended(engine, events)
    exchanges = _exchanges(engine, events)
    raters = [f"U0RATER{i}{uuid.uuid4().hex[:4].upper()}" for i in range(len(exchanges))]

    postgres.stop()
    try:
        for i, (exchange, rater) in enumerate(zip(exchanges, raters, strict=True)):
            _click(stack.replicas[i % 2], exchange, rater)
        wait_until(lambda: all(_told(slack, r) for r in raters), 30, "an answer to each click")
    finally:
        postgres.start()
    stored = _stored_ratings(engine, raters)
    for rater in raters:  # each rating stored or refused out loud, never dropped
        assert (rater in stored) != (_told(slack, rater) == [NOT_SAVED]), rater

    # Reconnected without a restart: new ratings are stored, new questions answered.
    again = [f"U0AGAIN{i}{uuid.uuid4().hex[:4].upper()}" for i in range(2)]
    for i, rater in enumerate(again):
        _click(stack.replicas[i], exchanges[i], rater)
    wait_until(lambda: all(_told(slack, r) == [THANKS] for r in again), 30, "the thanks")
    assert _stored_ratings(engine, again) == set(again)
    events = _ask(stack.replicas, ["How do I descale the kettle after the restart?"] * 2)
    _wait_ended(engine, events)
    assert all(not e.abstained for e in _exchanges(engine, events))
