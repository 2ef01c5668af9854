"""`supportbot mcp` with the official MCP SDK's own client: over stdio (the real command
in its own process) and over streamable HTTP behind the bearer token."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from sqlmodel import Session, select

from bot.conversation import Conversation
from bot.exchange_log import ExchangeLog
from bot.mcp_server import build_mcp_server, http_app
from supportbot.db import create_db_engine, upgrade
from supportbot.models import Exchange, Surface
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.cli import supportbot

TOKEN = "mcp-token-0123456789abcdef"
RESET = "How do I factory reset the Nimbus Hub?"


def run_async(session: Callable[[], Awaitable[None]]) -> None:
    """Run the client on its own thread: the session's browser tests (Playwright's sync
    API) keep an event loop running on the main thread, where asyncio.run refuses."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(anyio.run, session).result()


def structured(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content


def test_an_ai_tool_searches_asks_and_reads_resources_over_stdio(
    sample_knowledge: Path, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path}/mcp.db"
    env = {
        **os.environ,
        "SUPPORTBOT_DATA_DIR": str(sample_knowledge),
        "SUPPORTBOT_DATABASE_URL": database,
        "HF_HUB_OFFLINE": "1",
    }
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "supportbot", "mcp"], env=env
    )

    async def session() -> None:
        async with Client(server, read_timeout_seconds=120) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert tools == {"search", "ask"}

            found = structured(
                await client.call_tool(
                    "search", {"query": "factory reset", "product": "Nimbus Hub", "limit": 3}
                )
            )
            assert found["products"] == ["Nimbus Hub"]
            assert len(found["passages"]) == 3
            first = found["passages"][0]
            assert "reset" in first["text"].lower()
            assert first["url"].startswith("https://docs.nimbus.example/")
            assert all(p["product"] == "Nimbus Hub" for p in found["passages"])

            answered = structured(await client.call_tool("ask", {"question": RESET}))
            assert answered["mode"] == "excerpts"  # no LLM configured: cited excerpts
            assert "10 seconds" in answered["answer"]
            assert answered["sources"][0]["url"].startswith("https://docs.nimbus.example/")

            unknown = await client.call_tool("search", {"query": "reset", "product": "Toaster"})
            assert unknown.is_error
            assert "the products are: Nimbus Hub" in unknown.content[0].text
            empty = await client.call_tool("ask", {"question": "   "})
            assert empty.is_error

            resources = {str(r.uri) for r in (await client.list_resources()).resources}
            assert resources == {"supportbot://products", "supportbot://sources"}
            products = await client.read_resource("supportbot://products")
            assert json.loads(products.contents[0].text) == {"products": ["Nimbus Hub"]}
            sources = json.loads(
                (await client.read_resource("supportbot://sources")).contents[0].text
            )
            assert {s["name"] for s in sources["sources"]} >= {"nimbus-manual", "nimbus-releases"}

    run_async(session)
    engine = create_db_engine(database)
    with Session(engine) as db:
        [exchange] = db.exec(select(Exchange)).all()
    assert exchange.surface == Surface.MCP
    assert exchange.question == RESET


@pytest.fixture
def http_server(sample_knowledge: Path, tmp_path: Path):
    settings = Settings(
        data_dir=sample_knowledge,
        database_url=f"sqlite:///{tmp_path}/mcp.db",
        mcp_token=TOKEN,
    )
    engine = create_db_engine(settings.resolved_database_url)
    upgrade(engine)
    server = build_mcp_server(settings, Conversation(settings, engine), ExchangeLog(engine))
    with serve(http_app(server, TOKEN, "127.0.0.1")) as url:  # type: ignore[arg-type]
        yield f"{url}/mcp"


def test_the_http_transport_answers_only_with_the_token(http_server: str) -> None:
    async def session() -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        http = httpx2.AsyncClient(headers=headers, timeout=60)
        transport = streamable_http_client(http_server, http_client=http)
        async with http, Client(transport) as client:
            found = structured(
                await client.call_tool("search", {"query": "pair a sensor", "limit": 2})
            )
            assert len(found["passages"]) == 2
            assert any("pair" in p["text"].lower() for p in found["passages"])

    run_async(session)
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        refused = httpx.post(http_server, json=initialize, headers=headers, timeout=10)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")


def test_the_http_transport_will_not_start_without_a_token(tmp_path: Path) -> None:
    result = supportbot(
        "mcp",
        "--transport",
        "http",
        env={"SUPPORTBOT_DATA_DIR": str(tmp_path), "SUPPORTBOT_MCP_TOKEN": ""},
    )
    assert result.returncode == 2
    assert "SUPPORTBOT_MCP_TOKEN" in result.stderr
