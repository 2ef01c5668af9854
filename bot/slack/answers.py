"""Answering one Slack question: claim it, show we're on it, stream the answer, record it.

Runs after Bolt has acknowledged the event. The answer itself is computed on a
dedicated thread pool (Haystack and the openai client block); everything that talks to
Slack stays on the event loop, so a slow answer never delays an ack or another answer.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.conversation import AnswerStream, Conversation
from bot.delivery import Delivery
from bot.exchange_log import ExchangeLog
from bot.scoping import Scoper
from bot.slack import blocks
from bot.slack.handoff import HandOff
from bot.slack.questions import Question, clean_text
from bot.slack.writer import AnswerWriter, slack_error
from knowledge.answering import Answer, Turn
from knowledge.scope import Scope
from supportbot.models import QuestionRecord, QuestionState, Surface
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

WORKING_REACTION = "eyes"
HISTORY_MESSAGES = 20
FAILED_TEXT = (
    "Sorry, something went wrong while I was answering. "
    "I'm handing your question to a person on the support team."
)
EMPTY_TEXT = "Ask me a question about the product and I'll answer from the docs."
WHICH_PRODUCT = "Which product is this about?"
HANDED_TEXT = "Thanks! A person from the support team will answer this one here."
LATE_TEXT = (
    "Sorry, I couldn't answer this in time (the service was restarting). "
    "I'm handing your question to a person on the support team."
)


class SlackAnswers:
    def __init__(
        self,
        settings: Settings,
        conversation: Conversation,
        exchanges: ExchangeLog,
        pool: ThreadPoolExecutor,
        hand_off: HandOff,
        delivery: Delivery,
        scoper: Scoper | None = None,
    ) -> None:
        self.settings = settings
        self.conversation = conversation
        self.exchanges = exchanges
        self.pool = pool
        self.hand_off = hand_off
        self.delivery = delivery
        self.scoper = scoper or Scoper(settings, exchanges)

    async def respond(
        self, client: AsyncWebClient, question: Question, hand_off: bool = False
    ) -> None:
        """A question just heard: record and claim it, then answer it (or, with
        `hand_off`, give it to a person) unless this server is stopping (then the
        question waits for the resume path)."""
        fresh, question.id = await self._receive(question)
        if not fresh:
            log.info("slack.duplicate_ignored", keys=question.claim_keys)
            return
        if not self.delivery.accepting:
            log.info("slack.left_for_resume", question_id=question.id)
            return
        with self.delivery.working():
            try:
                if hand_off:
                    await self._hand_off_now(client, question, HANDED_TEXT, "channel policy")
                else:
                    await self._handle(client, question)
            except Exception as error:  # a bug or Slack refusing: an ending, not a limbo
                log.exception("slack.question_failed", question_id=question.id)
                failure = f"{type(error).__name__}: {error}"
                await self._end(question, QuestionState.FAILED, error=failure)

    async def resume(self, client: AsyncWebClient, record: QuestionRecord) -> None:
        """A question a dead or stopped server left open: answer it now, editing the
        message it had started, or hand it to a person when it is too old."""
        question = Question.of(record)
        if self.delivery.too_old(record):
            error = "not answered in time: the server answering it stopped"
            await self._hand_off_now(client, question, LATE_TEXT, error)
            return
        await self._handle(client, question)

    async def _receive(self, question: Question) -> tuple[bool, int | None]:
        record = question.record()
        try:
            question_id = await asyncio.to_thread(
                self.delivery.ledger.receive, record, question.claim_keys
            )
        except SQLAlchemyError as error:  # answering untracked beats not answering at all
            log.error("slack.ledger_unavailable", error=type(error).__name__)
            return True, None
        return question_id is not None, question_id

    async def _handle(self, client: AsyncWebClient, question: Question) -> None:
        text = clean_text(question.text)
        if not text:
            await _post(client, question, EMPTY_TEXT)
            await self._end(question, QuestionState.ANSWERED)
            return
        if not question.scope_chosen:
            decision = await asyncio.to_thread(
                self.scoper.resolve, question.scope, question.conversation_id, text
            )
            if decision.needs_choice and len(text) <= blocks.MAX_PICKED_QUESTION:
                await self._ask_which_product(client, question, text, list(decision.choices))
                await self._end(question, QuestionState.WAITING)
                return
            question.scope = decision.scope
        await self.delivery.update(self.delivery.ledger.start, question.id, question.scope.stored())
        await self._show_working(client, question)
        try:
            ending = await self._answer(client, question, text)
        except Exception:  # a stop's CancelledError passes by: 👀 stays until it is resumed
            await self._stop_working(client, question)
            raise
        # 👀 goes before the question ends: an ended question is never touched again.
        await self._stop_working(client, question)
        await self._end(question, *ending)

    async def _end(
        self,
        question: Question,
        state: QuestionState,
        exchange_id: int | None = None,
        error: str | None = None,
    ) -> None:
        await self.delivery.update(
            self.delivery.ledger.finish, question.id, state, exchange_id=exchange_id, error=error
        )

    async def _hand_off_now(
        self, client: AsyncWebClient, question: Question, told: str, error: str
    ) -> None:
        """Tell the asker a person will take it, record that, and hand it off."""
        text = clean_text(question.text)
        answer = Answer(told, [], "abstained", question=text, standalone_question=text)
        writer = self._writer(client, question, streaming=False)
        exchange_id = await self._deliver(client, question, writer, answer, 0.0, error, True)
        await self._stop_working(client, question)
        await self._end(question, QuestionState.HANDED_OFF, exchange_id, error)

    def _writer(self, client: AsyncWebClient, question: Question, streaming: bool) -> AnswerWriter:
        async def started(ts: str) -> None:
            await self.delivery.update(self.delivery.ledger.replied, question.id, ts)

        # A resumed question edits the message its first attempt had started.
        streaming = streaming and question.reply_ts is None
        return AnswerWriter(client, question, streaming, ts=question.reply_ts, on_start=started)

    async def _ask_which_product(
        self, client: AsyncWebClient, question: Question, text: str, choices: list[str]
    ) -> None:
        """Two products are plausible: one click instead of a guess."""
        picker = blocks.product_picker(text, choices, WHICH_PRODUCT)
        try:
            await client.chat_postMessage(
                channel=question.channel_id,
                thread_ts=question.thread_ts,
                text=f"{WHICH_PRODUCT} ({', '.join(choices)})",
                blocks=picker,
            )
        except SlackApiError as error:
            log.error("slack.post_failed", error=slack_error(error))

    def can_change_product(self, scope: Scope) -> bool:
        return bool(scope.products) and len(self.scoper.products) > 1

    async def _answer(
        self, client: AsyncWebClient, question: Question, text: str
    ) -> tuple[QuestionState, int | None, str | None]:
        """Answer and deliver; how the question ends (state, exchange id, error)."""
        history = await self._history(client, question) if question.follow_up else []
        writer = self._writer(client, question, streaming=self.settings.slack_streaming)
        started = time.perf_counter()
        error: str | None = None
        try:
            answer = await self._compute(text, history, question.scope, writer)
        except ValueError as invalid:  # empty or oversized: tell the asker, nothing to record
            await writer.discard()
            await _post(client, question, f"Sorry, I can't take that one: {invalid}.")
            return QuestionState.FAILED, None, f"refused: {invalid}"
        except Exception as failure:  # a bug or a dead dependency: record it and hand off
            log.exception("slack.answer_failed")
            error = f"{type(failure).__name__}: {failure}"
            answer = Answer(FAILED_TEXT, [], "abstained", question=text, standalone_question=text)
        total_ms = (time.perf_counter() - started) * 1000
        handing = answer.abstained and self.settings.slack_auto_handoff
        exchange_id = await self._deliver(
            client, question, writer, answer, total_ms, error, handing, scoped=True
        )
        state = QuestionState.FAILED if error else QuestionState.ANSWERED
        if handing and exchange_id is not None:
            state = QuestionState.HANDED_OFF
        return state, exchange_id, error

    async def _deliver(
        self,
        client: AsyncWebClient,
        question: Question,
        writer: AnswerWriter,
        answer: Answer,
        total_ms: float,
        error: str | None,
        hand_off: bool,
        scoped: bool = False,
    ) -> int | None:
        """Record the answer, complete its message (with the product it was scoped to,
        when `scoped`), and hand the exchange to a person when asked; its id."""
        exchange_id = await self._record(answer, question, total_ms, error)
        scope = question.scope
        reply_ts = await writer.finish(
            answer,
            exchange_id,
            scope.display if scoped else None,
            change=scoped and self.can_change_product(scope),
        )
        if reply_ts and exchange_id is not None:
            await asyncio.to_thread(self.exchanges.set_reply_ts, exchange_id, reply_ts)
        if hand_off and exchange_id is not None:
            await self.hand_off(client, exchange_id, requested_by=None)
        return exchange_id

    async def _record(
        self, answer: Answer, question: Question, total_ms: float, error: str | None
    ) -> int | None:
        """The exchange's id; None when the database is down (the asker still gets the
        answer, without rating buttons, and the log says what was lost)."""
        try:
            return await asyncio.to_thread(
                self.exchanges.record,
                answer,
                Surface.SLACK,
                total_ms=total_ms,
                error=error,
                scope=question.scope,
                conversation_id=question.conversation_id,
                channel_id=question.channel_id,
                thread_ts=question.thread_ts,
                message_ts=question.message_ts,
                user_id=question.user_id,
                team_id=question.team_id,
            )
        except SQLAlchemyError as failure:
            log.error(
                "slack.exchange_not_recorded",
                error=type(failure).__name__,
                channel=question.channel_id,
                message_ts=question.message_ts,
            )
            return None

    async def _compute(
        self, text: str, history: list[Turn], scope: Scope, writer: AnswerWriter
    ) -> Answer:
        stream = AnswerStream(self.conversation, self.pool, text, history, scope)
        async for token in stream:
            await writer.append(token)
        return await stream.result()

    async def _history(self, client: AsyncWebClient, question: Question) -> list[Turn]:
        """The thread's earlier messages as turns; our own stored exchanges if Slack
        can't give them (missing history scope, API error)."""
        try:
            response = await client.conversations_replies(
                channel=question.channel_id, ts=question.thread_ts, limit=HISTORY_MESSAGES
            )
            messages = response.get("messages") or []
        except SlackApiError as error:
            log.info("slack.history_unavailable", error=error.response.get("error"))
            return await asyncio.to_thread(self.exchanges.history, question.conversation_id)
        turns = []
        for message in messages:
            if float(message.get("ts", 0)) >= float(question.message_ts):
                continue
            text = clean_text(message.get("text") or "")
            if text:
                role = "assistant" if message.get("bot_id") else "user"
                turns.append(Turn(role, text))
        return turns

    async def _show_working(self, client: AsyncWebClient, question: Question) -> None:
        try:
            if question.status is not None:
                await question.status("is thinking…")
            else:
                await client.reactions_add(
                    channel=question.channel_id,
                    timestamp=question.message_ts,
                    name=WORKING_REACTION,
                )
        except SlackApiError as error:  # cosmetic: never let it stop the answer
            log.debug("slack.working_indicator_failed", error=error.response.get("error"))

    async def _stop_working(self, client: AsyncWebClient, question: Question) -> None:
        if question.status is not None:
            return  # Slack clears an assistant thread's status when we reply
        try:
            await client.reactions_remove(
                channel=question.channel_id, timestamp=question.message_ts, name=WORKING_REACTION
            )
        except SlackApiError as error:
            log.debug("slack.working_indicator_failed", error=error.response.get("error"))


async def _post(client: AsyncWebClient, question: Question, text: str) -> None:
    try:
        await client.chat_postMessage(
            channel=question.channel_id, thread_ts=question.thread_ts, text=text
        )
    except SlackApiError as error:
        log.error("slack.post_failed", error=slack_error(error))
