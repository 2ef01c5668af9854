"""The web chat API over real HTTP: JSON and streamed answers, feedback, hand-off, limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from supportbot.models import Rating
from supportbot.settings import Settings
from tests.support.openai_fake import FakeOpenAI
from tests.support.slack_harness import serve_slack_bot
from tests.support.web import Web

RESET = "How do I factory reset the Nimbus Hub?"


def test_chat_answers_current_procedure_first_and_stores_a_web_exchange(web: Web) -> None:
    response = web.post("/api/chat", {"message": RESET})
    assert response.status_code == 200
    body = response.json()
    assert body["conversation_id"].startswith("web-")
    assert body["mode"] == "excerpts"
    # The release note that changed the procedure leads; the manual follows, labelled.
    answer = body["answer"]
    assert answer.index("10 seconds") < answer.index("15 seconds")
    assert "**Since 2026-10-14**" in answer
    assert ": older documentation (before 2026-10-14" in answer
    assert "paper clip" in answer
    assert "<ol>" in body["answer_html"], "the manual's steps stay a numbered list"
    assert [source["url"] for source in body["sources"][:2]] == [
        "https://docs.nimbus.example/releases/3.2",
        "https://docs.nimbus.example/manual/troubleshooting.html",
    ]
    assert body["sources"][0]["published_at"].startswith("2026-10-14")
    [exchange] = web.exchanges()
    assert exchange.id == body["exchange_id"]
    assert (exchange.surface, exchange.channel_id) == ("web", "web")
    assert exchange.conversation_id == body["conversation_id"]


def test_a_follow_up_gets_the_conversation_as_history(make_web, llm: FakeOpenAI) -> None:
    with make_web(llm_base_url=llm.base_url, llm_max_retries=0) as web:
        first = web.post("/api/chat", {"message": RESET}).json()
        asked = len(llm.requests)
        follow = web.post(
            "/api/chat",
            {
                "message": "Does that delete my sensors?",
                "conversation_id": first["conversation_id"],
            },
        ).json()
        assert follow["conversation_id"] == first["conversation_id"]
        condense = str(llm.requests[asked]["messages"])
        assert RESET in condense
        assert "Hold the **Reset** button" in condense


def test_the_stream_sends_start_tokens_and_done(make_web, llm: FakeOpenAI) -> None:
    with make_web(llm_base_url=llm.base_url, llm_max_retries=0) as web:
        events = web.stream({"message": RESET})
        names = [name for name, _ in events]
        assert names[0] == "start"
        assert names[-1] == "done"
        assert names.count("token") >= 2
        streamed = "".join(data for name, data in events if name == "token")
        done = events[-1][1]
        assert streamed == done["answer"] == "Hold the **Reset** button for 10 seconds [1]."
        assert "<strong>Reset</strong>" in done["answer_html"]
        assert done["conversation_id"] == events[0][1]["conversation_id"]
        assert web.exchanges()[0].id == done["exchange_id"]


def test_an_unknown_product_is_refused_with_the_list_not_answered_from_nothing(
    web: Web,
) -> None:
    response = web.post("/api/chat", {"message": RESET, "product": "Some Other Product"})
    assert response.status_code == 400
    assert "Nimbus Hub" in response.json()["detail"]
    assert web.exchanges() == []
    scoped = web.post("/api/chat", {"message": RESET, "product": "nimbus hub"}).json()
    assert scoped["scope"] == "product: Nimbus Hub"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"message": ""}, 422),
        ({"message": "   \n "}, 422),
        ({"message": "x" * 4001}, 422),
        ({"message": 42}, 422),
        ({"message": ["a"]}, 422),
        ({"message": "hi", "conversation_id": "not-an-id"}, 422),
        ({"message": "hi", "conversation_id": "web-" + "0" * 32}, 404),
    ],
)
def test_bad_questions_get_a_clear_4xx_and_change_nothing(
    web: Web, body: dict[str, Any], status: int
) -> None:
    for path in ("/api/chat", "/api/chat/stream"):
        response = web.post(path, body)
        assert response.status_code == status
        assert "detail" in response.json()
        assert "Traceback" not in response.text
    assert web.exchanges() == []


def test_malformed_json_and_oversized_bodies_are_refused(web: Web) -> None:
    response = web.post("/api/chat", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    huge = json.dumps({"message": "x" * 200_000}).encode()
    response = web.post("/api/chat", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert web.exchanges() == []


def test_feedback_is_stored_against_the_conversations_answer(web: Web) -> None:
    answer = web.post("/api/chat", {"message": RESET}).json()
    rating = {"conversation_id": answer["conversation_id"], "exchange_id": answer["exchange_id"]}
    response = web.post("/api/feedback", {**rating, "rating": "down", "comment": "Too vague"})
    assert response.status_code == 200
    [row] = web.feedback()
    assert (row.rating, row.reason) == (Rating.DOWN, "Too vague")
    assert row.user_id == f"web:{answer['conversation_id']}"
    web.post("/api/feedback", {**rating, "rating": "up"})
    [row] = web.feedback()
    assert row.rating == Rating.UP, "a second rating replaces the first"


def test_feedback_for_someone_elses_answer_is_refused(web: Web) -> None:
    answer = web.post("/api/chat", {"message": RESET}).json()
    other = web.post("/api/chat", {"message": RESET}).json()
    response = web.post(
        "/api/feedback",
        {
            "conversation_id": other["conversation_id"],
            "exchange_id": answer["exchange_id"],
            "rating": "up",
        },
    )
    assert response.status_code == 404
    bad = web.post(
        "/api/feedback",
        {
            "conversation_id": answer["conversation_id"],
            "exchange_id": answer["exchange_id"],
            "rating": "meh",
        },
    )
    assert bad.status_code == 422
    assert web.feedback() == []


def test_handoff_marks_the_exchange_escalated_once(web: Web) -> None:
    answer = web.post("/api/chat", {"message": RESET}).json()
    request = {"conversation_id": answer["conversation_id"], "contact": "pat@example.com"}
    first = web.post("/api/handoff", request)
    assert first.status_code == 200
    assert first.json()["status"] == "escalated"
    assert web.exchanges()[0].escalated
    assert web.post("/api/handoff", request).json()["status"] == "already_escalated"
    unknown = web.post("/api/handoff", {"conversation_id": "web-" + "1" * 32})
    assert unknown.status_code == 404


def test_handoff_reaches_slack_when_slack_is_configured(
    sample_knowledge: Path, tmp_path: Path
) -> None:

    settings = Settings(
        data_dir=sample_knowledge,
        database_url=f"sqlite:///{tmp_path}/web.db",
        slack_escalation_channel="C0ESCALATE",
    )
    with serve_slack_bot(settings) as bot:
        answer = httpx.post(f"{bot.url}/api/chat", json={"message": RESET}, timeout=30).json()
        httpx.post(
            f"{bot.url}/api/handoff",
            json={"conversation_id": answer["conversation_id"], "contact": "pat@example.com"},
            timeout=30,
        )
        [post] = bot.fake.wait_for(lambda: bot.fake.called("chat.postMessage"), what="post")
        assert post["channel"] == "C0ESCALATE"
        assert "factory reset" in post["text"]
        assert "pat@example.com" in post["text"]


def test_the_rate_limit_answers_429_with_retry_after(make_web) -> None:
    with make_web(web_rate_limit_per_minute=3) as web:
        statuses = [web.post("/api/chat", {"message": RESET}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = web.post("/api/chat", {"message": RESET})
        assert int(limited.headers["Retry-After"]) >= 1
        assert "Too many requests" in limited.json()["detail"]
        assert len(web.exchanges()) == 3


def test_an_api_key_gates_the_api_and_the_page_carries_a_token(make_web) -> None:
    with make_web(web_api_key="s3cret-key-value") as web:
        assert web.post("/api/chat", {"message": RESET}).status_code == 401
        keyed = web.post("/api/chat", {"message": RESET}, headers={"X-API-Key": "s3cret-key-value"})
        assert keyed.status_code == 200
        page = httpx.get(f"{web.url}/", timeout=10).text
        assert "s3cret-key-value" not in page
        token = page.split('name="supportbot-token" content="')[1].split('"')[0]
        with_token = web.post(
            "/api/chat", {"message": RESET}, headers={"Authorization": f"Bearer {token}"}
        )
        assert with_token.status_code == 200
        forged = web.post(
            "/api/chat", {"message": RESET}, headers={"Authorization": "Bearer 9999999999.abc"}
        )
        assert forged.status_code == 401


def test_allowed_origins_get_cors_and_may_frame_the_page(make_web) -> None:
    with make_web(web_allowed_origins="https://help.example.com") as web:
        preflight = httpx.options(
            f"{web.url}/api/chat",
            headers={
                "Origin": "https://help.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == "https://help.example.com"
        other = httpx.options(
            f"{web.url}/api/chat",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in other.headers
        csp = httpx.get(f"{web.url}/").headers["content-security-policy"]
        assert "frame-ancestors 'self' https://help.example.com" in csp


def test_the_openapi_schema_describes_the_real_responses(web: Web) -> None:
    schema = httpx.get(f"{web.url}/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/chat", "/api/chat/stream", "/api/feedback", "/api/handoff"} <= set(paths)
    assert "/slack/events" not in paths
    assert "text/event-stream" in paths["/api/chat/stream"]["post"]["responses"]["200"]["content"]
    answer = web.post("/api/chat", {"message": RESET}).json()
    _validate(schema, "ChatResponse", answer)
    feedback = web.post(
        "/api/feedback",
        {
            "conversation_id": answer["conversation_id"],
            "exchange_id": answer["exchange_id"],
            "rating": "up",
        },
    ).json()
    _validate(schema, "StatusResponse", feedback)
    error = web.post("/api/chat", {"message": ""}).json()
    _validate(schema, "HTTPValidationError", error)


def _validate(schema: dict[str, Any], name: str, instance: Any) -> None:
    wrapper = {"$ref": f"#/components/schemas/{name}", "components": schema["components"]}
    jsonschema.validate(instance, wrapper)


def test_the_chat_page_and_widget_are_served(web: Web) -> None:
    page = httpx.get(f"{web.url}/?product=Nimbus%20Hub&embed=1")
    assert page.status_code == 200
    assert 'id="question"' in page.text
    assert "/static/chat.js" in page.text
    assert httpx.get(f"{web.url}/static/chat.js").status_code == 200
    widget = httpx.get(f"{web.url}/widget.js")
    assert widget.headers["content-type"].startswith("text/javascript")
    assert "iframe" in widget.text
