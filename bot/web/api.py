"""The web chat API: ask (JSON or Server-Sent Events), rate, ask for a human.

Conversations are identified by ids the server hands out (`web-<32 hex>`); a follow-up
sends the id back and gets the conversation's earlier turns as history. Exchanges and
ratings land in the same tables as Slack's, with `surface = web`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import structlog
from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.sse import EventSourceResponse, ServerSentEvent
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.conversation import AnswerStream, Conversation
from bot.delivery import Delivery
from bot.exchange_log import ExchangeLog
from bot.scoping import Scoper
from bot.slack.handoff import handoff_text
from bot.tickets import TicketDesks, open_handoff_ticket, shown_reference
from bot.web.guard import Guard
from bot.web.i18n import ANSWER_LANGUAGES, primary
from bot.web.markdown import render_html
from bot.web.schemas import (
    CONVERSATION_PATTERN,
    MAX_BODY_BYTES,
    WEB_CHANNEL,
    WHICH_PRODUCT,
    ChatRequest,
    ChatResponse,
    ConversationResponse,
    FeedbackRequest,
    HandoffRequest,
    PastTurn,
    Prepared,
    ProductsResponse,
    Source,
    StatusResponse,
    StopRequest,
    SuggestionsResponse,
)
from bot.web.suggestions import Suggestions
from knowledge.answering import Answer, AnswerCancelled, Turn
from knowledge.scope import Scope
from supportbot.models import Exchange, QuestionRecord, QuestionState, Rating, Surface
from supportbot.settings import Settings

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = structlog.stdlib.get_logger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def build_api(
    settings: Settings,
    conversation: Conversation,
    exchanges: ExchangeLog,
    guard: Guard,
    slack: SlackBot | None,
    delivery: Delivery,
) -> tuple[APIRouter, ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=settings.web_answer_workers, thread_name_prefix="web")
    scoper = Scoper(settings, exchanges)
    ledger = delivery.ledger
    background: set[asyncio.Task[object]] = set()
    suggestions = Suggestions(settings, exchanges)
    desks = TicketDesks(settings)
    # The answer each conversation is streaming now, so the asker can stop it.
    streaming: dict[str, AnswerStream] = {}

    async def received(question: Prepared) -> int | None:
        """Record the question's life; 503 while this server is shutting down."""
        if not delivery.accepting:
            raise HTTPException(503, "Restarting; ask again in a moment.", {"Retry-After": "5"})
        record = QuestionRecord(
            surface=Surface.WEB,
            state=QuestionState.ANSWERING,
            text=question.text,
            conversation_id=question.conversation_id,
            channel_id=WEB_CHANNEL,
            scope=question.scope.stored(),
            scope_chosen=True,
            follow_up=bool(question.history),
        )
        try:
            return await asyncio.to_thread(ledger.receive, record)
        except SQLAlchemyError as error:  # answering untracked beats not answering
            log.error("web.ledger_unavailable", error=type(error).__name__)
            return None

    def record(
        answer: Answer,
        scope: Scope,
        conversation_id: str | None,
        started: float,
        error: str | None = None,
    ) -> int:
        """Store a web exchange (blocking); raises SQLAlchemyError when the database is down."""
        return exchanges.record(
            answer,
            Surface.WEB,
            total_ms=(time.perf_counter() - started) * 1000,
            error=error,
            scope=scope,
            conversation_id=conversation_id,
            channel_id=WEB_CHANNEL,
        )

    def off_the_request(work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as its own task: it must finish even when the request that started
        it is being cancelled (a dropped stream), so it cannot be awaited there."""
        task = asyncio.get_running_loop().create_task(work)
        background.add(task)
        task.add_done_callback(background.discard)

    def ended(question_id: int | None, state: QuestionState, **details: Any) -> None:
        """Record how the question ended, off the request."""
        off_the_request(delivery.update(ledger.finish, question_id, state, **details))

    def abandoned(
        question: Prepared,
        question_id: int | None,
        partial: str,
        started: float,
        reason: str = "abandoned: the client disconnected mid-answer",
    ) -> None:
        """The client went away mid-answer, or the asker stopped it: keep what was
        produced, marked abandoned (its own answer mode: not an abstention, never
        harvested, never rated)."""
        answer = Answer(partial, [], "abandoned", question.text, question.text)  # type: ignore[arg-type]

        async def keep() -> None:
            try:
                exchange_id = await asyncio.to_thread(
                    record,
                    answer,
                    question.scope,
                    question.conversation_id,
                    started,
                    reason,
                )
            except SQLAlchemyError as error:
                log.error("web.exchange_not_recorded", error=type(error).__name__)
                return
            await delivery.update(
                ledger.finish, question_id, QuestionState.ABANDONED, exchange_id=exchange_id
            )

        off_the_request(keep())
        log.info("web.stream_abandoned", produced_chars=len(partial), reason=reason)

    async def resume(question: QuestionRecord) -> None:
        """A web question a dead server left: answer and record it in its conversation
        (the page shows it when the visitor comes back), or mark it failed if too old."""
        if delivery.too_old(question):
            failure = "not answered in time"
            await delivery.update(ledger.finish, question.id, QuestionState.FAILED, error=failure)
            return
        scope = Scope.from_stored(question.scope)
        history = await asyncio.to_thread(exchanges.history, question.conversation_id or "")
        started = time.perf_counter()
        answer = await asyncio.get_running_loop().run_in_executor(
            pool, lambda: conversation.answer(question.text, history=history, scope=scope)
        )
        exchange_id = await asyncio.to_thread(
            record, answer, scope, question.conversation_id, started
        )
        await asyncio.to_thread(
            ledger.finish, question.id, QuestionState.ANSWERED, exchange_id=exchange_id
        )

    delivery.resumers[Surface.WEB] = resume
    router = APIRouter(
        prefix="/api",
        tags=["chat"],
        dependencies=[Depends(guard.authorize)],
        max_body_size=MAX_BODY_BYTES,
    )
    limited = [Depends(guard.rate_limit)]

    async def prepare(request: ChatRequest) -> Prepared:
        prepared = await _prepare(request)
        prepared.language = ANSWER_LANGUAGES.get(primary(request.language) or "")
        return prepared

    async def _prepare(request: ChatRequest) -> Prepared:
        conversation_id = request.conversation_id
        history: list[Turn] = []
        if conversation_id is not None:
            history = await run_db(exchanges.history, conversation_id)
            if not history:
                raise HTTPException(404, f"Unknown conversation {conversation_id!r}.")
        else:
            conversation_id = f"web-{uuid.uuid4().hex}"
        explicit = Scope()
        if request.product:
            product = scoper.catalog.named(request.product)
            if product is None:  # never a silent scope that finds nothing
                known = ", ".join(scoper.products) or "none are configured"
                raise HTTPException(
                    400, f"Unknown product {request.product!r}; the products are: {known}."
                )
            explicit = Scope(products=(product,))
        if request.any_product:
            return Prepared(request.message, conversation_id, history, explicit, (), not history)
        decision = await run_db(scoper.resolve, explicit, conversation_id, request.message)
        return Prepared(
            request.message,
            conversation_id,
            history,
            decision.scope,
            decision.choices,
            new_conversation=not history,
        )

    def clarify(question: Prepared) -> ChatResponse:
        return ChatResponse(
            conversation_id=None if question.new_conversation else question.conversation_id,
            exchange_id=None,
            answer=WHICH_PRODUCT,
            answer_html=render_html(WHICH_PRODUCT),
            mode="clarify",
            note=None,
            scope=None,
            choices=list(question.choices),
            sources=[],
        )

    async def finish(
        question: Prepared, answer: Answer, started: float, question_id: int | None
    ) -> ChatResponse:
        exchange_id = None
        try:
            exchange_id = await asyncio.to_thread(
                record, answer, question.scope, question.conversation_id, started
            )
        except SQLAlchemyError as error:  # the asker still gets the answer
            log.error("web.exchange_not_recorded", error=type(error).__name__)
        await delivery.update(
            ledger.finish, question_id, QuestionState.ANSWERED, exchange_id=exchange_id
        )
        return ChatResponse(
            conversation_id=question.conversation_id,
            exchange_id=exchange_id,
            answer=answer.text,
            answer_html=render_html(answer.text),
            mode=answer.mode,
            note=answer.note,
            scope=question.scope.label,
            products=list(question.scope.products),
            sources=[Source.of(c) for c in answer.citations],
        )

    def start(question: Prepared) -> AnswerStream:
        stream = AnswerStream(
            conversation,
            pool,
            question.text,
            question.history,
            question.scope,
            language=question.language,
        )
        streaming[question.conversation_id] = stream
        return stream

    def done_streaming(question: Prepared, stream: AnswerStream) -> None:
        if streaming.get(question.conversation_id) is stream:
            del streaming[question.conversation_id]

    def stopped_response(question: Prepared, partial: str) -> ChatResponse:
        """What the asker sees of an answer they stopped (it is stored, not rateable)."""
        return ChatResponse(
            conversation_id=question.conversation_id,
            exchange_id=None,
            answer=partial,
            answer_html=render_html(partial),
            mode="stopped",
            note=None,
            scope=question.scope.label,
            products=list(question.scope.products),
            sources=[],
        )

    asked = Depends(prepare)

    @router.post("/chat", dependencies=limited)
    async def chat(question: Prepared = asked) -> ChatResponse:
        """Ask a question; the whole answer comes back at once (or, when several
        products fit the question, `mode` clarify with the `choices`)."""
        if question.choices:
            return clarify(question)
        question_id = await received(question)
        started = time.perf_counter()
        stream = start(question)
        try:
            async for _token in stream:
                pass
            answer = await stream.result()
        except asyncio.CancelledError:  # the client hung up: free the worker
            stream.cancel()
            abandoned(question, question_id, stream.text, started)
            raise
        except AnswerCancelled:  # the asker stopped it
            abandoned(question, question_id, stream.text, started, STOPPED)
            return stopped_response(question, stream.text)
        except Exception as error:
            ended(question_id, QuestionState.FAILED, error=f"{type(error).__name__}: {error}")
            raise
        finally:
            done_streaming(question, stream)
        return await finish(question, answer, started, question_id)

    @router.post("/chat/stream", response_class=EventSourceResponse, dependencies=limited)
    async def chat_stream(question: Prepared = asked) -> AsyncIterable[ServerSentEvent]:
        """Ask a question; the answer streams as Server-Sent Events: `start`
        (`{"conversation_id"}`), any number of `token` (a piece of the answer's text),
        then `done` (the object `/api/chat` returns) or `error` (`{"detail"}`)."""
        if question.choices:  # nothing to stream: the page asks which product
            yield ServerSentEvent(event="done", data=clarify(question).model_dump())
            return
        question_id = await received(question)
        started = time.perf_counter()
        stream = start(question)
        try:
            yield ServerSentEvent(event="start", data={"conversation_id": question.conversation_id})
            async for token in stream:
                yield ServerSentEvent(event="token", data=token)
        except (asyncio.CancelledError, GeneratorExit):  # the browser went away mid-answer
            stream.cancel()
            abandoned(question, question_id, stream.text, started)
            raise
        finally:
            done_streaming(question, stream)
        try:
            answer = await stream.result()
        except AnswerCancelled:  # the asker pressed stop: keep what was produced
            abandoned(question, question_id, stream.text, started, STOPPED)
            stopped = stopped_response(question, stream.text)
            yield ServerSentEvent(event="stopped", data=stopped.model_dump())
            return
        except Exception as error:
            log.exception("web.answer_failed")
            ended(question_id, QuestionState.FAILED, error=f"{type(error).__name__}: {error}")
            yield ServerSentEvent(event="error", data={"detail": "The answer failed; try again."})
            return
        response = await finish(question, answer, started, question_id)
        yield ServerSentEvent(event="done", data=response.model_dump())

    @router.post("/chat/stop")
    async def stop(request: StopRequest) -> StatusResponse:
        """Stop the answer this conversation is streaming; what was produced is kept."""
        stream = streaming.get(request.conversation_id)
        if stream is None:
            return StatusResponse(status="idle", message="No answer is being written.")
        stream.stop()
        log.info("web.answer_stopped", produced_chars=len(stream.text))
        return StatusResponse(status="stopped", message="Stopped.")

    @router.get("/conversations/{conversation_id}")
    async def past_conversation(
        conversation_id: Annotated[str, Path(pattern=CONVERSATION_PATTERN)],
    ) -> ConversationResponse:
        """A conversation's questions and answers, for the browser that holds its id
        (ids are 128 random bits the server handed out; there is no list of them)."""
        rows = await run_db(exchanges.conversation, conversation_id, f"web:{conversation_id}")
        if not rows or rows[0][0].surface != Surface.WEB:
            raise HTTPException(404, "No such conversation.")
        return ConversationResponse(
            conversation_id=conversation_id,
            turns=[past_turn(exchange, rating) for exchange, rating in rows],
        )

    @router.get("/suggestions")
    async def suggested(product: str | None = None) -> SuggestionsResponse:
        """Questions to offer on an empty conversation (for `product` when given)."""
        if product is not None and scoper.catalog.named(product) is None:
            raise HTTPException(400, f"Unknown product {product!r}.")
        return SuggestionsResponse(questions=await run_db(suggestions, product))

    @router.get("/products")
    async def products() -> ProductsResponse:
        """The products questions can be scoped to (for a product picker)."""
        return ProductsResponse(products=scoper.products)

    @router.post("/feedback", dependencies=limited)
    async def feedback(request: FeedbackRequest) -> StatusResponse:
        """Rate an answer 👍 or 👎, optionally saying what was wrong or what is right."""
        exchange = await run_db(exchanges.exchange, request.exchange_id)
        if exchange is None or exchange.conversation_id != request.conversation_id:
            raise HTTPException(404, "No such answer in this conversation.")
        await run_db(
            exchanges.rate,
            request.exchange_id,
            f"web:{request.conversation_id}",
            request.rating,
            reason=request.comment,
            correction=request.correction,
        )
        return StatusResponse(status="recorded", message="Thanks for the feedback!")

    @router.post("/handoff", dependencies=limited)
    async def handoff(request: HandoffRequest) -> StatusResponse:
        """Ask for a person from the support team to follow up."""
        exchange_id = request.exchange_id or await run_db(
            exchanges.latest_exchange_id, request.conversation_id
        )
        exchange = await run_db(exchanges.exchange, exchange_id) if exchange_id else None
        if exchange is None or exchange.conversation_id != request.conversation_id:
            raise HTTPException(404, "No such answer in this conversation.")
        if not await run_db(exchanges.escalate, exchange.id, request.contact):
            return StatusResponse(
                status="already_escalated", message="The support team has already been asked."
            )
        notified = await _notify_team(settings, slack, exchange.question, request.contact)
        opened = await open_handoff_ticket(
            desks.for_exchange(exchange), exchanges, exchange, request.contact
        )
        ticket = shown_reference(opened)
        # Queued either way: leads see hand-offs on the review page and in the report.
        if request.contact:
            message = f"The support team has your question and will reply to {request.contact}."
        elif notified or opened:
            message = "The support team has been told and will follow up in this chat."
        else:
            message = (
                "Your question is queued for the support team. Leave an e-mail address "
                "so they can reach you."
            )
        if ticket:
            message += f" Your ticket: {ticket}."
        return StatusResponse(status="escalated", message=message, ticket=ticket)

    return router, pool


STOPPED = "stopped: the asker stopped the answer"


def past_turn(exchange: Exchange, rating: Rating | None) -> PastTurn:
    assert exchange.id is not None
    stopped = exchange.answer_mode == "abandoned"
    return PastTurn(
        exchange_id=exchange.id,
        question=exchange.question,
        answer=exchange.answer,
        answer_html=render_html(exchange.answer),
        mode="stopped" if stopped else exchange.answer_mode or "generated",
        note=None if stopped else exchange.error,
        products=list(Scope.from_stored(exchange.scope).products),
        sources=[Source.of_stored(source) for source in exchange.sources],
        rating=rating,
        escalated=exchange.escalated,
        created_at=exchange.created_at.isoformat(),
    )


async def run_db(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking database call off the event loop; 503 when the database is down."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except SQLAlchemyError as error:
        log.error("web.database_unavailable", error=type(error).__name__)
        raise HTTPException(503, "The service is temporarily unavailable.") from None


async def _notify_team(
    settings: Settings, slack: SlackBot | None, question: str, contact: str | None
) -> bool:
    """Tell the leads in Slack when it is set up; False when nobody was notified."""
    channel = settings.slack_escalation_channel
    if slack is None or channel is None:
        log.info("web.handoff_queued_for_review")
        return False
    text = handoff_text(
        settings.slack_lead_usergroup,
        "A web chat visitor asked for a human",
        question,
        f"Contact: {contact}" if contact else None,
    )
    try:
        await slack.app.client.chat_postMessage(channel=channel, text=text)
    except SlackApiError as error:
        log.error("web.handoff_post_failed", error=error.response.get("error"))
        return False
    return True
