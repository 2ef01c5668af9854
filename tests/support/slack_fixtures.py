"""Fixtures shared by the Slack scenario tests (one test file per Slack surface)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from supportbot.models import Exchange, Feedback
from supportbot.settings import Settings
from tests.support.slack_harness import SlackBotUnderTest, serve_slack_bot

BotFactory = Callable[..., AbstractContextManager[SlackBotUnderTest]]


@pytest.fixture
def make_bot(sample_knowledge: Path, tmp_path: Path) -> BotFactory:
    """Serve a bot on the sample knowledge with extra settings; a fresh database each test."""

    def make(**overrides: Any) -> AbstractContextManager[SlackBotUnderTest]:
        values = {"data_dir": sample_knowledge, "database_url": f"sqlite:///{tmp_path}/bot.db"}
        return serve_slack_bot(Settings(**{**values, **overrides}))

    return make


@pytest.fixture
def bot(make_bot: BotFactory) -> Iterator[SlackBotUnderTest]:
    with make_bot() as served:
        yield served


def exchanges(bot: SlackBotUnderTest) -> list[Exchange]:
    with Session(bot.engine) as session:
        return list(session.exec(select(Exchange).order_by(Exchange.id)).all())


def feedback(bot: SlackBotUnderTest) -> list[Feedback]:
    with Session(bot.engine) as session:
        return list(session.exec(select(Feedback).order_by(Feedback.id)).all())
