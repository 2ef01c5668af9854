"""Bulk review of harvested pairs on the web, for support leads.

Sign-in is a per-lead token (`SUPPORTBOT_REVIEW_TOKENS`, JSON name → token) sent as
`Authorization: Bearer …`; decisions are recorded as `web:<name>`. Self-hosters need no
identity provider; anyone without a valid token is refused.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as FastAPIPath
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from bot.conversation import Conversation
from bot.exchange_log import ExchangeLog
from bot.web.api import run_db
from bot.web.schemas import MAX_BODY_BYTES, Id, no_lone_surrogates
from finetune_data.curation import CurationError, decide, edit, list_pairs, mark
from finetune_data.history import as_dict, history
from supportbot.models import MAX_ID, Exchange, PairKind, PairStatus, QAPair
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

FAILED_SIGN_INS_PER_MINUTE = 10
PairId = Annotated[int, FastAPIPath(ge=1, le=MAX_ID)]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(no_lone_surrogates),
]


class PairOut(BaseModel):
    id: int
    status: PairStatus
    kind: PairKind
    origin: str
    question: str
    answer: str
    bot_answer: str | None
    comment: str | None
    surface: str | None
    times_asked: int
    sources: list[str]
    decided_by: str | None
    edited_by: str | None
    test: bool
    critical: bool

    @classmethod
    def of(cls, pair: QAPair) -> PairOut:
        return cls(
            id=pair.id or 0,
            status=pair.status,
            kind=pair.kind,
            origin=pair.origin.value,
            question=pair.question,
            answer=pair.answer,
            bot_answer=pair.bot_answer,
            comment=pair.comment,
            surface=pair.surface,
            times_asked=1 + len(pair.merged_exchange_ids),
            sources=[s.get("title") or "Untitled" for s in pair.context or []],
            decided_by=pair.decided_by,
            edited_by=pair.edited_by,
            test=pair.test,
            critical=pair.critical,
        )


class EventOut(BaseModel):
    at: str
    action: str
    by: str
    changes: dict[str, list[Any]]
    note: str | None


class PairEdit(BaseModel):
    question: Text | None = None
    answer: Text | None = None
    test: bool | None = None
    critical: bool | None = None


class HandoffOut(BaseModel):
    exchange_id: int
    at: str
    surface: str
    question: str
    contact: str | None
    conversation_id: str | None
    ticket: str | None = None
    ticket_url: str | None = None

    @classmethod
    def of(cls, exchange: Exchange) -> HandoffOut:
        return cls(
            exchange_id=exchange.id or 0,
            at=exchange.created_at.isoformat(),
            surface=exchange.surface.value,
            question=exchange.question,
            contact=exchange.contact,
            conversation_id=exchange.conversation_id,
            ticket=exchange.ticket_ref,
            ticket_url=exchange.ticket_url,
        )


class Decisions(BaseModel):
    pair_ids: list[Id] = Field(min_length=1, max_length=500)
    status: Literal["approved", "rejected"]
    replaces: Id | None = Field(
        default=None, description="an approved pair the (single) approved pair replaces"
    )


class DecisionResult(BaseModel):
    pair_id: int
    ok: bool
    detail: str


def build_review(
    settings: Settings, conversation: Conversation, exchanges: ExchangeLog
) -> APIRouter:
    tokens = {name: token.get_secret_value() for name, token in settings.review_tokens.items()}
    engine = exchanges.engine

    # Wrong tokens are throttled per client address: guessing gets nowhere fast.
    failures = MovingWindowRateLimiter(MemoryStorage())
    allowed_failures = RateLimitItemPerMinute(FAILED_SIGN_INS_PER_MINUTE)

    def reviewer(request: Request) -> str:
        if not tokens:
            raise HTTPException(403, "Review is not set up: configure SUPPORTBOT_REVIEW_TOKENS.")
        client = request.client.host if request.client else "unknown"
        if not failures.test(allowed_failures, "review", client):
            raise HTTPException(
                429, "Too many failed sign-ins; try again in a minute.", {"Retry-After": "60"}
            )
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and given:
            for name, token in tokens.items():
                if hmac.compare_digest(given.encode(), token.encode()):
                    return f"web:{name}"
        failures.hit(allowed_failures, "review", client)
        log.warning("web.review_refused", client=client)
        raise HTTPException(401, "Only support leads can review: sign in with your token.")

    lead = Depends(reviewer)
    # The size limit applies before the token check: FastAPI reads the body first.
    router = APIRouter(prefix="/api/review", tags=["review"], max_body_size=MAX_BODY_BYTES)

    @router.get("/pairs")
    async def pairs(
        who: str = lead,
        status: PairStatus | Literal["all"] = PairStatus.CANDIDATE,
        kind: PairKind | Literal["all"] = "all",
        q: Annotated[str, StringConstraints(max_length=200)] = "",
    ) -> list[PairOut]:
        """Pairs to review, filtered by status, kind and text."""
        found = await run_db(
            list_pairs,
            engine,
            None if status == "all" else status,
            None if kind == "all" else kind,
            1000,
        )
        needle = q.lower().strip()
        return [
            PairOut.of(p)
            for p in found
            if not needle or needle in p.question.lower() or needle in p.answer.lower()
        ]

    @router.patch("/pairs/{pair_id}")
    async def edit_pair(pair_id: PairId, change: PairEdit, who: str = lead) -> PairOut:
        """Edit a pair's question or answer (an approved pair's verified answer follows)."""
        index = await asyncio.to_thread(conversation.verified_answer_indexer)
        try:
            pair = await run_db(edit, engine, pair_id, who, index, change.question, change.answer)
            if change.test is not None or change.critical is not None:
                pair = await run_db(mark, engine, pair_id, who, change.test, change.critical)
        except CurationError as error:
            raise HTTPException(404 if "no pair" in str(error) else 422, str(error)) from None
        return PairOut.of(pair)

    @router.get("/pairs/{pair_id}/history")
    async def pair_history(pair_id: PairId, who: str = lead) -> list[EventOut]:
        """Every decision and edit of a pair, oldest first (append-only)."""
        events = await run_db(history, engine, pair_id)
        return [EventOut(**as_dict(event)) for event in events]

    @router.post("/decisions")
    async def decisions(request: Decisions, who: str = lead) -> list[DecisionResult]:
        """Approve or reject many pairs at once; each gets its own result."""
        index = await asyncio.to_thread(conversation.verified_answer_indexer)
        status = PairStatus(request.status)
        results = []
        conflicts = index.conflicts if index is not None else None
        replaces = request.replaces if len(request.pair_ids) == 1 else None
        for pair_id in request.pair_ids:
            try:
                await run_db(
                    decide,
                    engine,
                    pair_id,
                    status,
                    who,
                    index,
                    conflicts=conflicts,
                    replaces=replaces,
                )
                results.append(DecisionResult(pair_id=pair_id, ok=True, detail=status.value))
            except CurationError as error:
                results.append(DecisionResult(pair_id=pair_id, ok=False, detail=str(error)))
        return results

    @router.get("/handoffs")
    async def handoffs(who: str = lead) -> list[HandoffOut]:
        """Questions handed to a person, newest first, with the contact a web visitor
        left: the queue leads answer from when Slack is not set up."""
        rows = await run_db(exchanges.escalated, 200)
        return [HandoffOut.of(row) for row in rows]

    @router.get("/whoami")
    async def whoami(who: str = lead) -> dict[str, str]:
        """Checks a token: the name decisions will be recorded under."""
        return {"reviewer": who}

    return router
