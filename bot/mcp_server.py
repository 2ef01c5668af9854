"""The knowledge base for AI tools, over the Model Context Protocol (the official `mcp`
SDK): `supportbot mcp` serves it on stdio (a local assistant starts it) or streamable
HTTP (behind a bearer token).

- tool `search`: the best passages for a query, with their citations, scoped by product;
- tool `ask`: a cited answer through the same answering path as Slack and the web chat,
  recorded like theirs (surface `mcp`);
- resources `supportbot://products` and `supportbot://sources`: what the knowledge base
  covers.
"""

from __future__ import annotations

import hmac
import json
import time

import anyio
import structlog
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.conversation import Conversation
from bot.exchange_log import ExchangeLog
from bot.scoping import Scoper
from knowledge.answering import MAX_QUESTION_CHARS, Citation
from knowledge.scope import Scope as ProductScope
from knowledge.sources import SourcesFileError, load_sources, resolve_sources_file
from supportbot import __version__
from supportbot.models import Surface
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

MAX_RESULTS = 20
PASSAGE_CHARS = 2000
INSTRUCTIONS = (
    "Support knowledge: product manuals, dated release notes (updates supersede older "
    "manual text) and answers verified by the support team. Use `search` to read passages "
    "and cite their URLs; use `ask` for a finished, cited answer. Scope either to a product "
    "from the supportbot://products resource when the question is about one."
)


class Passage(BaseModel):
    number: int
    title: str | None
    section: str | None
    url: str | None
    kind: str | None = Field(description="manual, update or verified_answer.")
    published_at: str | None = Field(description="Set for dated updates.")
    product: str | None
    source: str | None
    score: float | None
    text: str


class SearchResult(BaseModel):
    query: str
    products: list[str] = Field(description="The products searched; empty: all.")
    passages: list[Passage]


class AskResult(BaseModel):
    answer: str = Field(description="Markdown; [n] cites sources[n-1].")
    mode: str = Field(description="generated, excerpts or abstained (the docs do not say).")
    note: str | None
    products: list[str]
    sources: list[Passage]


def build_mcp_server(
    settings: Settings, conversation: Conversation, exchanges: ExchangeLog
) -> MCPServer:
    scoper = Scoper(settings, exchanges)
    server = MCPServer(
        name="supportbot", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    def scope_of(product: str | None) -> ProductScope:
        if not product:
            return ProductScope()
        named = scoper.catalog.named(product)
        if named is None:
            known = ", ".join(scoper.products) or "none are configured"
            raise ToolError(f"Unknown product {product!r}; the products are: {known}.")
        return ProductScope(products=(named,))

    def checked(text: str, what: str) -> str:
        text = text.strip()
        if not text:
            raise ToolError(f"The {what} is empty.")
        if len(text) > MAX_QUESTION_CHARS:
            raise ToolError(f"The {what} is too long (at most {MAX_QUESTION_CHARS} characters).")
        return text

    @server.tool()
    async def search(query: str, product: str | None = None, limit: int = 5) -> SearchResult:
        """Search the support knowledge base: the best passages for `query`, each with its
        title, section, URL and date, best first. `product` limits it to one product."""
        query = checked(query, "query")
        scope = scope_of(product)
        limit = max(1, min(limit, MAX_RESULTS))
        documents = await anyio.to_thread.run_sync(lambda: conversation.search(query, scope, limit))
        passages = [
            passage(Citation.from_document(n, d), d.content or "")
            for n, d in enumerate(documents, start=1)
        ]
        return SearchResult(query=query, products=list(scope.products), passages=passages)

    @server.tool()
    async def ask(question: str, product: str | None = None) -> AskResult:
        """Ask the support bot: an answer written from the knowledge base with numbered
        citations, or mode "abstained" when the docs do not answer it."""
        question = checked(question, "question")
        scope = scope_of(product)
        started = time.perf_counter()
        answer = await anyio.to_thread.run_sync(lambda: conversation.answer(question, scope=scope))
        try:
            await anyio.to_thread.run_sync(
                lambda: exchanges.record(
                    answer,
                    Surface.MCP,
                    total_ms=(time.perf_counter() - started) * 1000,
                    scope=scope,
                )
            )
        except Exception as error:  # the caller still gets the answer
            log.error("mcp.exchange_not_recorded", error=type(error).__name__)
        return AskResult(
            answer=answer.text,
            mode=answer.mode,
            note=answer.note,
            products=list(scope.products),
            sources=[passage(c, c.excerpt) for c in answer.citations],
        )

    @server.resource(
        "supportbot://products",
        name="products",
        description="The products the knowledge base documents (scope search and ask by them).",
        mime_type="application/json",
    )
    def products() -> str:
        return json.dumps({"products": scoper.products})

    @server.resource(
        "supportbot://sources",
        name="sources",
        description="The sources the knowledge base is synced from: name, kind, type, product.",
        mime_type="application/json",
    )
    def sources() -> str:
        path = resolve_sources_file(settings.sources_file, settings.resolved_data_dir)
        try:
            specs = load_sources(path)
        except SourcesFileError as error:
            raise ToolError(f"The sources file cannot be read: {error}") from None
        listed = [
            {
                "name": spec.name,
                "kind": str(spec.kind),
                "type": spec.type,
                "product": spec.product,
                "tags": spec.tags,
                "url": spec.base_url or spec.url,
            }
            for spec in specs
        ]
        return json.dumps({"sources": listed})

    return server


def passage(citation: Citation, text: str) -> Passage:
    return Passage(
        number=citation.number,
        title=citation.title,
        section=citation.section,
        url=citation.url,
        kind=citation.kind,
        published_at=citation.published_at,
        product=citation.product,
        source=citation.source,
        score=citation.score,
        text=text[:PASSAGE_CHARS],
    )


class BearerToken:
    """ASGI middleware: every request needs `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = given.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.token):
            await self.app(scope, receive, send)
            return
        body = b'{"error": "unauthorized", "detail": "Send Authorization: Bearer <token>."}'
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="supportbot"'),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def http_app(server: MCPServer, token: str, host: str) -> ASGIApp:
    """The streamable HTTP app at /mcp, behind the bearer token."""
    return BearerToken(server.streamable_http_app(streamable_http_path="/mcp", host=host), token)
