"""The served web chat for this folder's tests: `make_web(**settings)` serves the app on
the sample knowledge (a context manager yielding a `Web`), `web` is one with defaults,
`llm` a local OpenAI-compatible model that cites source 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.server import create_app
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.openai_fake import FakeOpenAI, fake_openai
from tests.support.web import Web


@pytest.fixture
def make_web(sample_knowledge: Path, tmp_path: Path):
    def make(**overrides: Any):
        values = {"data_dir": sample_knowledge, "database_url": f"sqlite:///{tmp_path}/web.db"}
        app = create_app(Settings(**{**values, **overrides}))

        class Served:
            def __enter__(self) -> Web:
                self.context = serve(app)
                return Web(self.context.__enter__(), app.state.engine)

            def __exit__(self, *exc: object) -> None:
                self.context.__exit__(*exc)

        return Served()

    return make


@pytest.fixture
def web(make_web) -> Iterator[Web]:
    with make_web() as served:
        yield served


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with fake_openai() as server:
        server.reply = lambda _r: "Hold the **Reset** button for 10 seconds [1]."
        yield server
