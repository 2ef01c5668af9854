"""Surface: App Home, where support leads curate harvested pairs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from bot.slack.curation import APPROVE, EDIT, EDIT_MODAL, PROMOTE, REJECT, edit_modal
from supportbot.db import session_scope
from supportbot.models import PairKind, PairOrigin, PairStatus, QAPair
from supportbot.registry import active_model_id, list_models, register
from supportbot.settings import Settings
from tests.support.slack_harness import SlackBotUnderTest, block_action, new_ts, serve_slack_bot

LEAD = "U0LEAD"


@pytest.fixture
def bot(sample_knowledge: Path, tmp_path: Path) -> Iterator[SlackBotUnderTest]:
    data = tmp_path / "data"  # approving writes verified answers: use a copy of the store
    shutil.copytree(sample_knowledge, data)
    settings = Settings(
        data_dir=data, database_url=f"sqlite:///{tmp_path}/bot.db", slack_lead_user_ids=[LEAD]
    )
    with serve_slack_bot(settings) as served:
        with session_scope(served.engine) as session:
            session.add_all(
                [
                    QAPair(
                        question="How do I pair a sensor?",
                        answer="Press Pair [1].",
                        context=[{"title": "Sensors", "section": "Pairing"}],
                        surface="slack",
                    ),
                    QAPair(
                        question="Does it do Zigbee 4?",
                        answer="",
                        kind=PairKind.GAP,
                        origin=PairOrigin.THUMBS_DOWN,
                        comment="no answer",
                        surface="web",
                    ),
                    QAPair(question="What is the weather?", answer="Sunny.", surface="web"),
                ]
            )
        yield served


def _pairs(bot: SlackBotUnderTest) -> list[QAPair]:
    with Session(bot.engine) as session:
        return list(session.exec(select(QAPair).order_by(QAPair.id)).all())


def _open_home(bot: SlackBotUnderTest, user: str) -> dict:
    before = len(bot.fake.called("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    bot.event({**event, "event_ts": new_ts()})
    published = bot.fake.wait_for(
        lambda: len(bot.fake.called("views.publish")) > before and bot.fake.called("views.publish"),
        what="App Home",
    )
    return published[-1]


def _click(bot: SlackBotUnderTest, action: str, pair_id: int, user: str) -> None:
    payload = block_action(action, str(pair_id), user_id=user)
    payload["container"] = {"type": "view", "view_id": "VHOME"}
    payload.pop("channel")
    payload.pop("message")
    assert bot.interaction(payload).status_code == 200


def test_leads_see_the_queue_and_others_the_how_to(bot: SlackBotUnderTest) -> None:
    lead_home = str(_open_home(bot, LEAD)["view"])
    assert "Answers to review" in lead_home
    assert "How do I pair a sensor?" in lead_home
    assert "Needs an answer" in lead_home
    assert "sources: Sensors" in lead_home
    other_home = str(_open_home(bot, "U0SOMEONE")["view"])
    assert "Answers to review" not in other_home
    assert "Talk to a human" in other_home


def test_a_lead_approves_edits_and_rejects_and_each_decision_is_recorded(
    bot: SlackBotUnderTest,
) -> None:
    sensor, gap, weather = _pairs(bot)
    _click(bot, APPROVE, sensor.id, LEAD)
    bot.fake.wait_for(lambda: _pairs(bot)[0].status == PairStatus.APPROVED, what="approval")
    assert _pairs(bot)[0].decided_by == f"slack:{LEAD}"

    _click(bot, EDIT, gap.id, LEAD)
    [opened] = bot.fake.wait_for(lambda: bot.fake.called("views.open"), what="the editor")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == EDIT_MODAL
    values = {
        "question": {"value": {"type": "plain_text_input", "value": "Does it support Zigbee 4?"}},
        "answer": {"value": {"type": "plain_text_input", "value": "Not yet; it is planned."}},
    }
    submission = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": LEAD},
        "view": {**view, "id": "V1", "state": {"values": values}},
    }
    assert bot.interaction(submission).status_code == 200
    bot.fake.wait_for(lambda: _pairs(bot)[1].status == PairStatus.APPROVED, what="edit")
    edited = _pairs(bot)[1]
    assert (edited.question, edited.answer) == (
        "Does it support Zigbee 4?",
        "Not yet; it is planned.",
    )
    assert edited.edited_by == edited.decided_by == f"slack:{LEAD}"
    assert edited.kind == PairKind.ANSWER

    _click(bot, REJECT, weather.id, LEAD)
    bot.fake.wait_for(lambda: _pairs(bot)[2].status == PairStatus.REJECTED, what="rejection")

    # Approved pairs answer questions at once, as verified answers.

    answer = httpx.post(
        f"{bot.url}/api/chat", json={"message": "Zigbee 4 support?"}, timeout=30
    ).json()
    assert any(s["kind"] == "verified_answer" for s in answer["sources"])


def test_an_empty_edit_is_sent_back_with_an_error(bot: SlackBotUnderTest) -> None:

    gap = _pairs(bot)[1]
    values = {
        "question": {"value": {"type": "plain_text_input", "value": "Zigbee?"}},
        "answer": {"value": {"type": "plain_text_input", "value": "  "}},
    }
    response = bot.interaction(
        {
            "type": "view_submission",
            "user": {"id": LEAD},
            "view": {**edit_modal(gap), "id": "V1", "state": {"values": values}},
        }
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {"answer": "This can't be empty."},
    }
    assert _pairs(bot)[1].status == PairStatus.CANDIDATE


def test_a_non_leads_approval_is_refused_and_their_home_left_alone(
    bot: SlackBotUnderTest,
) -> None:
    sensor, _gap, weather = _pairs(bot)
    _click(bot, APPROVE, sensor.id, "U0SOMEONE")
    _click(bot, REJECT, weather.id, LEAD)  # acted on after the refused click
    bot.fake.wait_for(lambda: _pairs(bot)[2].status == PairStatus.REJECTED, what="the lead's")
    assert _pairs(bot)[0].status == PairStatus.CANDIDATE
    assert _pairs(bot)[0].decided_by is None
    published_for = {p["user_id"] for p in bot.fake.called("views.publish")}
    assert "U0SOMEONE" not in published_for


def test_a_lead_puts_a_model_that_passed_the_gate_live_from_app_home(
    bot: SlackBotUnderTest,
) -> None:
    gate = {"better": True, "awaiting_approval": True, "wins": 14, "losses": 3, "pairs": 24}
    gate["reason"] = "better on more pairs than worse"
    version = register(bot.engine, "local/supportbot-run7", "local", eval_scores={"gate": gate})
    home = str(_open_home(bot, LEAD)["view"])
    assert "Models awaiting approval" in home
    assert "won 14 and lost 3 of 24 test pairs" in home

    _click(bot, PROMOTE, version.id, "U0SOMEONE")
    assert active_model_id(bot.engine, "base") == "base", "a non-lead changes nothing"

    _click(bot, PROMOTE, version.id, LEAD)
    bot.fake.wait_for(
        lambda: active_model_id(bot.engine, "base") == "local/supportbot-run7", what="promotion"
    )
    [model] = list_models(bot.engine)
    assert model.eval_scores["gate"]["awaiting_approval"] is False
    assert "Models awaiting approval" not in str(_open_home(bot, LEAD)["view"])
