"""The leads' web review: token sign-in, filters, edits, bulk decisions; others refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from bot.server import create_app
from supportbot.models import PairKind, PairOrigin, PairStatus, QAPair
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.web import review_app

TOKEN = "review-token-0123456789"


@pytest.fixture
def review(sample_knowledge: Path, tmp_path: Path) -> Iterator[tuple[str, object]]:
    pairs = [
        QAPair(question="How do I pair a sensor?", answer="Press Pair [1].", surface="web"),
        QAPair(
            question="Zigbee 4?",
            answer="",
            kind=PairKind.GAP,
            origin=PairOrigin.THUMBS_DOWN,
            comment="not answered",
        ),
        QAPair(question="Weather today?", answer="Sunny.", surface="slack"),
    ]
    with review_app(sample_knowledge, tmp_path, TOKEN, pairs) as (url, app):
        yield url, app.state.engine


def _pairs(engine) -> list[QAPair]:
    with Session(engine) as session:
        return list(session.exec(select(QAPair).order_by(QAPair.id)).all())


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_without_a_valid_token_nothing_is_shown_or_changed(review) -> None:
    url, engine = review
    assert httpx.get(f"{url}/api/review/pairs").status_code == 401
    assert httpx.get(f"{url}/api/review/pairs", headers=_auth("wrong")).status_code == 401
    refused = httpx.post(
        f"{url}/api/review/decisions",
        json={"pair_ids": [1], "status": "approved"},
        headers=_auth("wrong"),
    )
    assert refused.status_code == 401
    assert "Only support leads" in refused.json()["detail"]
    assert all(p.status == PairStatus.CANDIDATE for p in _pairs(engine))


def test_review_is_off_until_tokens_are_configured(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite"))
    with serve(app) as url:
        response = httpx.get(f"{url}/api/review/pairs", headers=_auth())
        assert response.status_code == 403
        assert "SUPPORTBOT_REVIEW_TOKENS" in response.json()["detail"]


def test_a_lead_filters_edits_and_decides_in_bulk(review) -> None:
    url, engine = review
    assert httpx.get(f"{url}/api/review/whoami", headers=_auth()).json() == {"reviewer": "web:pat"}
    gaps = httpx.get(f"{url}/api/review/pairs?kind=gap", headers=_auth()).json()
    assert [g["question"] for g in gaps] == ["Zigbee 4?"]
    found = httpx.get(f"{url}/api/review/pairs?q=sensor", headers=_auth()).json()
    assert [f["id"] for f in found] == [1]

    edited = httpx.patch(
        f"{url}/api/review/pairs/1", json={"answer": "Press and hold Pair [1]."}, headers=_auth()
    )
    assert edited.status_code == 200
    assert edited.json()["edited_by"] == "web:pat"

    results = httpx.post(
        f"{url}/api/review/decisions",
        json={"pair_ids": [1, 2, 99], "status": "approved"},
        headers=_auth(),
    ).json()
    assert [(r["pair_id"], r["ok"]) for r in results] == [(1, True), (2, False), (99, False)]
    assert "no answer yet" in results[1]["detail"]
    httpx.post(
        f"{url}/api/review/decisions", json={"pair_ids": [3], "status": "rejected"}, headers=_auth()
    )
    first, gap, weather = _pairs(engine)
    assert (first.status, first.decided_by, first.answer) == (
        PairStatus.APPROVED,
        "web:pat",
        "Press and hold Pair [1].",
    )
    assert gap.status == PairStatus.CANDIDATE
    assert (weather.status, weather.decided_by) == (PairStatus.REJECTED, "web:pat")

    bad = httpx.patch(f"{url}/api/review/pairs/1", json={"answer": "  "}, headers=_auth())
    assert bad.status_code == 422


def test_the_review_page_is_served_and_cannot_be_framed(review) -> None:
    url, _engine = review
    page = httpx.get(f"{url}/review")
    assert page.status_code == 200
    assert 'id="token"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
