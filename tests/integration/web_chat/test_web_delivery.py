"""The web chat's questions have a recorded life too, and a dropped stream lets go.

A browser that drops /api/chat/stream mid-answer cancels the generation at its next
token: the worker is free for the next asker, and the exchange is kept, marked
abandoned, with what had been produced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from bot.server import create_app
from knowledge.answering import Answer, Turn
from supportbot.models import Exchange, QuestionRecord, QuestionState
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.waiting import wait_until

WORKERS = 8
TOKENS = 600  # at 0.05 s a token: half a minute, unless cancelled


class SlowStreamingAnswerer:
    """Streams a token every 50 ms for half a minute; "quick" questions answer at once.
    Counts the generations that are still running."""

    def __init__(self) -> None:
        self.running = 0
        self.lock = threading.Lock()

    def __call__(
        self, question: str, *, history: list[Turn], filters: Any, on_token: Any
    ) -> Answer:
        if "quick" in question:
            return Answer("Right away.", [], "excerpts", question, question)
        with self.lock:
            self.running += 1
        try:
            for _ in range(TOKENS):
                time.sleep(0.05)  # the model producing its next token
                on_token("word ")
        finally:
            with self.lock:
                self.running -= 1
        return Answer("word " * TOKENS, [], "generated", question, question)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any, SlowStreamingAnswerer]]:
    answerer = SlowStreamingAnswerer()
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/web.db",
        web_answer_workers=WORKERS,
        web_rate_limit_per_minute=100,
    )
    app = create_app(settings, answerer=answerer)
    with serve(app) as url:
        yield url, app.state.engine, answerer


def drop_after_first_token(url: str, question: str) -> None:
    with httpx.stream(
        "POST", f"{url}/api/chat/stream", json={"message": question}, timeout=30
    ) as response:
        for line in response.iter_lines():
            if line.startswith("event: token"):
                return  # leaving the block closes the connection mid-answer


def wait_for(predicate: Any, what: str, timeout: float = 20.0) -> Any:
    return wait_until(predicate, timeout, what, poll_s=0.05)


def test_dropped_streams_free_their_workers_and_are_kept_as_abandoned(served) -> None:
    url, engine, answerer = served
    for i in range(WORKERS):
        drop_after_first_token(url, f"Tell me everything about topic {i}")
    wait_for(lambda: answerer.running == 0, "the dropped generations to stop")

    # Every worker was taken by a dropped stream; the next asker is not kept waiting.
    response = httpx.post(f"{url}/api/chat", json={"message": "A quick one?"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["answer"] == "Right away."

    def abandoned() -> list[Exchange]:
        with Session(engine) as session:
            rows = session.exec(select(Exchange).where(Exchange.answer_mode == "abandoned"))
            return list(rows.all())

    rows = wait_for(lambda: len(abandoned()) == WORKERS and abandoned(), "abandoned exchanges")
    assert all(row.answer.startswith("word") for row in rows), "what was produced is kept"
    assert all(len(row.answer) < len("word ") * TOKENS for row in rows), "it stopped early"
    assert all(not row.abstained for row in rows)
    expected = sorted([QuestionState.ABANDONED] * WORKERS + [QuestionState.ANSWERED])

    def states() -> list[QuestionState]:
        with Session(engine) as session:
            return sorted(q.state for q in session.exec(select(QuestionRecord)).all())

    wait_for(lambda: states() == expected, f"the questions' endings to be {expected}")
