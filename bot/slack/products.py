"""Product pickers: the clarifying question ("Which product is this about?") and the
"Change product" button under a scoped answer. One click answers the question for the
chosen product, in the same thread; a double click answers once."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import blocks
from bot.slack.answers import SlackAnswers
from bot.slack.channels import ChannelSettings
from bot.slack.outbound import intended
from bot.slack.questions import Question
from knowledge.scope import Scope

log = structlog.stdlib.get_logger(__name__)

CHANGE_PROMPT = "Which product should I answer for?"


def register(app: AsyncApp, answers: SlackAnswers, channels: ChannelSettings) -> None:
    @app.action(re.compile(rf"^{blocks.ACTION_CHOOSE_PRODUCT}:"))
    async def choose(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        picked = _picked(body)
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        if picked is None or not channel or not message.get("ts"):
            return
        question_text, product = picked
        policy = await asyncio.to_thread(channels.policy, channel)
        scope = policy.scope.with_products((product,) if product else ())
        user_id = (body.get("user") or {}).get("id")
        await _settle_picker(client, channel, message["ts"], product, user_id)
        question = Question(
            channel_id=channel,
            message_ts=message["ts"],
            thread_ts=message.get("thread_ts") or message["ts"],
            user_id=user_id,
            team_id=(body.get("team") or {}).get("id"),
            text=question_text,
            scope=scope,
            claim_keys=[f"picked:{channel}:{message['ts']}"],  # one answer per picker
            scope_chosen=True,
        )
        await answers.respond(client, question)

    @app.action(blocks.ACTION_CHANGE_PRODUCT)
    async def change(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        exchange_id = blocks.action_id_value(body)
        if exchange_id is None:
            return
        exchange = await asyncio.to_thread(answers.exchanges.exchange, exchange_id)
        if exchange is None or not channel:
            return
        current = Scope.from_stored(exchange.scope).products
        others = [p for p in answers.scoper.products if p not in current]
        picker = blocks.product_picker(exchange.question, others, CHANGE_PROMPT)
        try:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=message.get("thread_ts") or message.get("ts"),
                text=CHANGE_PROMPT,
                blocks=picker,
            )
        except SlackApiError as error:
            log.error("slack.post_failed", error=error.response.get("error"))


def _picked(body: dict[str, Any]) -> tuple[str, str] | None:
    try:
        value = json.loads((body.get("actions") or [{}])[0].get("value") or "")
        question, product = value["q"], value["p"]
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("slack.malformed_action", action="scope_choice")
        return None
    if not isinstance(question, str) or not isinstance(product, str) or not question.strip():
        return None
    return question, product


async def _settle_picker(
    client: AsyncWebClient, channel: str, ts: str, product: str, user_id: str | None
) -> None:
    """Replace the buttons with the choice, so the thread reads as a conversation."""
    chosen = product or "all products"
    by = f" (chosen by {intended(f'<@{user_id}>')})" if user_id else ""
    try:
        await client.chat_update(
            channel=channel,
            ts=ts,
            text=f"Answering for: {chosen}",
            blocks=[blocks.context_block(f"Answering for: {blocks.escape(chosen)}{by}")],
        )
    except SlackApiError as error:  # cosmetic
        log.info("slack.picker_update_failed", error=error.response.get("error"))
