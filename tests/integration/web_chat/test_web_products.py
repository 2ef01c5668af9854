"""Product scoping on the web: the widget parameter, detection, the thread's scope, and
the clarifying question when two products fit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.server import create_app
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.cli import supportbot
from tests.support.stores import STORE_KINDS
from tests.support.web import Web

BOTH = "Can the Nimbus Cam be paired with the Nimbus Hub?"


@pytest.fixture(params=STORE_KINDS)
def web(request: pytest.FixtureRequest, two_products_knowledge: Path, tmp_path: Path):
    """The web API on the two products, in the embedded store or in Weaviate."""
    values = {"database_url": f"sqlite:///{tmp_path}/web.db"}
    if request.param == "weaviate":
        values.update(request.getfixturevalue("two_products_in_weaviate"))
    settings = Settings(data_dir=two_products_knowledge, **values)
    app = create_app(settings)
    with serve(app) as url:
        yield Web(url, app.state.engine)


def _chat(web: Web, **body: Any) -> dict[str, Any]:
    response = web.post("/api/chat", body)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_widget_parameter_scopes_and_sources_stay_in_the_product(web: Web) -> None:
    body = _chat(web, message="How do I factory reset it?", product="Nimbus Cam")
    assert body["products"] == ["Nimbus Cam"]
    assert body["sources"]
    assert {s["product"] for s in body["sources"]} == {"Nimbus Cam"}
    assert "pinhole" in body["answer"]


def test_a_product_named_in_the_question_is_detected(web: Web) -> None:
    body = _chat(web, message="How do I factory reset the NH-200?")
    assert body["scope"] == "product: Nimbus Hub"
    assert {s["product"] for s in body["sources"]} == {"Nimbus Hub"}
    follow_up = _chat(
        web, message="Does it keep my rooms?", conversation_id=body["conversation_id"]
    )
    assert follow_up["products"] == ["Nimbus Hub"], "the conversation keeps its product"


def test_two_products_get_a_clarifying_question_then_the_choice_is_answered(web: Web) -> None:
    body = _chat(web, message=BOTH)
    assert body["mode"] == "clarify"
    assert body["choices"] == ["Nimbus Cam", "Nimbus Hub"]
    assert body["conversation_id"] is None
    assert web.exchanges() == [], "no answer is recorded before the choice"

    chosen = _chat(web, message=BOTH, product="Nimbus Hub")
    assert chosen["mode"] != "clarify"
    assert chosen["products"] == ["Nimbus Hub"]
    everything = _chat(web, message=BOTH, any_product=True)
    assert everything["mode"] != "clarify"
    assert everything["products"] == []
    assert {s["product"] for s in everything["sources"]} <= {"Nimbus Cam", "Nimbus Hub"}
    assert [e.scope for e in web.exchanges()] == [{"products": ["Nimbus Hub"]}, None]


def test_the_stream_sends_the_clarifying_question_as_done(web: Web) -> None:
    events = web.stream({"message": BOTH})
    assert [name for name, _ in events] == ["done"]
    assert events[0][1]["choices"] == ["Nimbus Cam", "Nimbus Hub"]


def test_the_products_list_feeds_the_picker(web: Web) -> None:
    response = httpx.get(f"{web.url}/api/products", timeout=10)
    assert response.json() == {"products": ["Nimbus Cam", "Nimbus Hub"]}


def test_the_cli_scopes_to_the_named_product_or_asks_for_one(
    two_products_knowledge: Path, tmp_path: Path
) -> None:

    env = {
        "SUPPORTBOT_DATA_DIR": str(two_products_knowledge),
        "SUPPORTBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
    }
    named = supportbot("ask", "How do I factory reset the camera?", "--json", env=env)
    assert named.returncode == 0, named.stderr
    assert "Answering for: Nimbus Cam" in named.stderr
    assert {s["product"] for s in json.loads(named.stdout)["citations"]} == {"Nimbus Cam"}
    chosen = supportbot("ask", BOTH, "--product", "Nimbus Hub", "--json", env=env)
    assert {s["product"] for s in json.loads(chosen.stdout)["citations"]} <= {"Nimbus Hub"}
    both = supportbot("ask", BOTH, env=env)
    assert both.returncode == 2
    assert "choose one with --product" in both.stderr
    unknown = supportbot("ask", BOTH, "--product", "Nimbus Fridge", env=env)
    assert unknown.returncode == 2
    assert "Nimbus Cam, Nimbus Hub" in unknown.stderr
    aliased = supportbot("ask", BOTH, "--product", "nimbus  HUB", "--json", env=env)
    assert aliased.returncode == 0, aliased.stderr


def test_the_product_parameter_takes_any_case_and_aliases_and_refuses_unknown_ones(
    web: Web,
) -> None:
    assert _chat(web, message="How do I factory reset it?", product="nimbus  CAM")["products"] == [
        "Nimbus Cam"
    ]
    response = httpx.post(
        f"{web.url}/api/chat",
        json={"message": "How do I reset it?", "product": "Nimbus Fridge"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "Nimbus Cam, Nimbus Hub" in response.json()["detail"]
    assert web.exchanges() == [] or all(e.question != "How do I reset it?" for e in web.exchanges())
