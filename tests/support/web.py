"""A served web chat under test: its URL, database and helpers for the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
from sqlmodel import Session, select

from supportbot.models import Exchange, Feedback


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
