"""A served web chat under test: its URL, database and helpers for the API."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import Session, select

from bot.server import create_app
from supportbot.db import session_scope
from supportbot.models import Exchange, Feedback, QAPair
from supportbot.settings import Settings
from tests.support.app_server import serve


@contextmanager
def review_app(
    sample_knowledge: Path, tmp_path: Path, token: str, pairs: list[QAPair]
) -> Iterator[tuple[str, FastAPI]]:
    """The web app on a copy of the sample knowledge, with a lead's review token ("pat")
    and these harvested pairs to review; yields its URL and the app."""
    data = tmp_path / "data"
    shutil.copytree(sample_knowledge, data)
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{tmp_path}/review.db",
        review_tokens={"pat": token},
    )
    app = create_app(settings)
    with serve(app) as url:
        with session_scope(app.state.engine) as session:
            session.add_all(pairs)
        yield url, app


class Web:
    def __init__(self, url: str, engine: Any) -> None:
        self.url = url
        self.engine = engine

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None and "content" not in kwargs:
            kwargs["json"] = body
        return httpx.post(f"{self.url}{path}", timeout=30, **kwargs)

    def stream(self, body: dict[str, Any]) -> list[tuple[str, Any]]:
        """POST /api/chat/stream; the events in order as (name, decoded data)."""
        return list(self.events(body))

    def events(self, body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """POST /api/chat/stream; each event as it arrives, as (name, decoded data)."""
        with httpx.stream("POST", f"{self.url}/api/chat/stream", json=body, timeout=30) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            name = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    yield name, json.loads(line.split(":", 1)[1])

    def exchanges(self) -> list[Exchange]:
        with Session(self.engine) as session:
            return list(session.exec(select(Exchange).order_by(Exchange.id)).all())

    def feedback(self) -> list[Feedback]:
        with Session(self.engine) as session:
            return list(session.exec(select(Feedback)).all())
