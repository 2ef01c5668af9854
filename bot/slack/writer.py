"""Writing one answer into a Slack thread as it is generated."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable

import structlog
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import blocks
from bot.slack.questions import Question
from knowledge.answering import Answer

log = structlog.stdlib.get_logger(__name__)

UPDATE_INTERVAL_S = 1.0  # chat.update is rate limited; one edit a second reads as live


class AnswerWriter:
    """Puts one answer into a thread: streamed with chat.startStream/appendStream/
    stopStream, or, where Slack refuses streaming, posted and then edited as it grows."""

    def __init__(
        self,
        client: AsyncWebClient,
        question: Question,
        streaming: bool,
        ts: str | None = None,
        on_start: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.question = question
        self.streaming = streaming
        self.text = ""
        self.stream: AsyncChatStream | None = None
        self.ts = ts  # set: edit this message rather than post a new one
        self.on_start = on_start
        self._last_update = 0.0

    async def _started(self, ts: str | None) -> None:
        if ts and self.on_start is not None:
            await self.on_start(ts)

    async def append(self, token: str) -> None:
        self.text += token
        if self.streaming:
            try:
                if self.stream is None:
                    self.stream = await self.client.chat_stream(
                        channel=self.question.channel_id,
                        thread_ts=self.question.thread_ts,
                        recipient_team_id=self.question.team_id,
                        recipient_user_id=self.question.user_id,
                    )
                await self.stream.append(markdown_text=token)
                if self.stream.ts and self.ts is None:
                    self.ts = self.stream.ts
                    await self._started(self.ts)
                return
            except (SlackApiError, SlackRequestError) as error:
                self._stop_streaming(error)
        await self._post_or_update()

    def _stop_streaming(self, error: Exception) -> None:
        log.info("slack.streaming_unavailable", error=slack_error(error))
        self.streaming = False
        if self.stream is not None and self.stream.ts:
            self.ts = self.stream.ts  # keep editing the message the stream started
        self.stream = None

    async def _post_or_update(self) -> None:
        text = blocks.to_mrkdwn(self.text) or "…"
        if self.ts is None:
            response = await self.client.chat_postMessage(
                channel=self.question.channel_id, thread_ts=self.question.thread_ts, text=text
            )
            self.ts = response.get("ts")
            self._last_update = time.monotonic()
            await self._started(self.ts)
        elif time.monotonic() - self._last_update >= UPDATE_INTERVAL_S:
            await self.client.chat_update(channel=self.question.channel_id, ts=self.ts, text=text)
            self._last_update = time.monotonic()

    async def finish(
        self,
        answer: Answer,
        exchange_id: int | None,
        scope_label: str | None,
        change: bool = False,
    ) -> str | None:
        """Complete the message with sources and buttons; returns its ts."""
        try:
            if self.stream is not None:
                try:
                    closing = blocks.closing_blocks(answer, exchange_id, scope_label, change)
                    await self.stream.stop(blocks=closing)
                    self.ts = self.stream.ts
                    if answer.text.strip() == self.text.strip():
                        return self.ts
                except (SlackApiError, SlackRequestError) as error:
                    self._stop_streaming(error)
            full = blocks.answer_blocks(answer.text, answer, exchange_id, scope_label, change)
            fallback = blocks.to_mrkdwn(answer.text)[:3000]
            if self.ts is not None:
                await self.client.chat_update(
                    channel=self.question.channel_id, ts=self.ts, text=fallback, blocks=full
                )
                return self.ts
            response = await self.client.chat_postMessage(
                channel=self.question.channel_id,
                thread_ts=self.question.thread_ts,
                text=fallback,
                blocks=full,
            )
            return response.get("ts")
        except SlackApiError as error:  # recorded already; the log says why Slack refused
            log.error("slack.answer_post_failed", error=slack_error(error))
            return self.ts

    async def discard(self) -> None:
        if self.stream is not None:
            with contextlib.suppress(SlackApiError, SlackRequestError):
                await self.stream.stop()


def slack_error(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return str(error)
