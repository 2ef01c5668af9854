"""Ratings and hand-offs: 👍/👎 buttons, :+1:/:-1: reactions, the 👎 modal, "talk to a human".

Every interaction is acknowledged first; the work happens after the ack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.exchange_log import ExchangeLog
from bot.slack import blocks, dedupe
from bot.slack.handoff import ALREADY, HandOff
from bot.slack.leads import LeadDirectory
from supportbot.models import Rating
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

REACTION_RATINGS = {
    "+1": Rating.UP,
    "thumbsup": Rating.UP,
    "-1": Rating.DOWN,
    "thumbsdown": Rating.DOWN,
}
THANKS = "Thanks for the feedback!"
THANKS_CORRECTION = "Thanks! Your correction goes to the support leads for review."
NOT_SAVED = (
    "Sorry, I couldn't save that just now: our database is unavailable. "
    "Please try again in a minute."
)


def register(
    app: AsyncApp,
    settings: Settings,
    exchanges: ExchangeLog,
    hand_off: HandOff,
    leads: LeadDirectory,
) -> None:
    secret = settings.slack_signing_secret
    key = secret.get_secret_value().encode() if secret else b""

    async def clicked(body: dict[str, Any]) -> int | None:
        """The exchange a button acts on, only where its answer was posted: a click
        forged with another channel's or thread's exchange id does nothing."""
        exchange_id = blocks.action_id_value(body)
        if exchange_id is None:
            return None
        exchange = await asyncio.to_thread(exchanges.exchange, exchange_id)
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts")
        if exchange is None or exchange.channel_id != channel or exchange.thread_ts != thread:
            log.warning("slack.click_out_of_place", exchange_id=exchange_id, channel=channel)
            return None
        return exchange_id

    @app.action(blocks.ACTION_HELPFUL)
    async def helpful(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _or_not_saved(client, body, rate_helpful(body, client))

    async def rate_helpful(body: dict[str, Any], client: AsyncWebClient) -> None:
        exchange_id, user_id = await clicked(body), _user_id(body)
        if exchange_id is None:
            return
        await asyncio.to_thread(exchanges.rate, exchange_id, user_id, Rating.UP)
        await _ephemeral(client, body, THANKS)

    @app.action(blocks.ACTION_NOT_HELPFUL)
    async def not_helpful(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _or_not_saved(client, body, rate_unhelpful(body, client))

    async def rate_unhelpful(body: dict[str, Any], client: AsyncWebClient) -> None:
        exchange_id, user_id = await clicked(body), _user_id(body)
        if exchange_id is None:
            return
        # The 👎 counts even if the modal is dismissed; the modal adds the details.
        await asyncio.to_thread(exchanges.rate, exchange_id, user_id, Rating.DOWN)
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        modal = blocks.feedback_modal(exchange_id, channel, message.get("thread_ts"), key)
        try:
            await client.views_open(trigger_id=body.get("trigger_id", ""), view=modal)
        except SlackApiError as error:
            log.warning("slack.modal_failed", error=error.response.get("error"))

    @app.view(blocks.FEEDBACK_MODAL)
    async def modal_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        values = blocks.modal_values(view)
        too_long = {
            name: f"At most {blocks.INPUT_LIMIT:,} characters, please."
            for name in ("comment", "correction")
            if len(values[name] or "") > blocks.INPUT_LIMIT
        }
        if too_long:  # Slack enforces the input's limit; a forged submission may not
            await ack(response_action="errors", errors=too_long)
            return
        await ack()
        metadata = blocks.unseal(view.get("private_metadata"), key)
        exchange_id = blocks.strict_id((metadata or {}).get("exchange_id"))
        if metadata is None or exchange_id is None:  # not a modal this bot opened
            log.warning("slack.unknown_modal", callback_id=view.get("callback_id"))
            return
        user_id = _user_id(body)
        reason = ": ".join(v for v in (values["reason"], values["comment"]) if v) or None
        is_lead = await leads.is_lead(client, user_id)
        channel = metadata.get("channel_id")
        try:
            await asyncio.to_thread(
                exchanges.rate,
                exchange_id,
                user_id,
                Rating.DOWN,
                reason=reason,
                correction=values["correction"],
                from_lead=is_lead,
            )
        except SQLAlchemyError as error:
            log.error("slack.feedback_not_saved", error=type(error).__name__)
            text = NOT_SAVED
        else:
            text = THANKS_CORRECTION if values["correction"] else THANKS
        if channel and user_id:
            await _post_ephemeral(client, channel, user_id, text, metadata.get("thread_ts"))

    @app.action(blocks.ACTION_HANDOFF)
    async def talk_to_human(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _or_not_saved(client, body, escalate(body, client))

    async def escalate(body: dict[str, Any], client: AsyncWebClient) -> None:
        exchange_id = await clicked(body)
        if exchange_id is None:
            return
        if not await hand_off(client, exchange_id, requested_by=_user_id(body)):
            await _ephemeral(client, body, ALREADY)

    async def on_reaction(body: dict[str, Any], event: dict[str, Any], rating_added: bool) -> None:
        name = str(event.get("reaction") or "").split("::")[0]  # drop skin tones
        rating = REACTION_RATINGS.get(name)
        item = event.get("item") or {}
        user_id = event.get("user")
        if rating is None or item.get("type") != "message" or not user_id:
            return
        if not await asyncio.to_thread(dedupe.claim, exchanges.engine, [body.get("event_id")]):
            return
        channel, ts = item.get("channel"), item.get("ts")
        if not isinstance(channel, str) or not isinstance(ts, str):
            return
        exchange = await asyncio.to_thread(exchanges.exchange_for_reply, channel, ts)
        if exchange is None or exchange.id is None:
            return  # a reaction on some other message
        if rating_added:
            await asyncio.to_thread(exchanges.rate, exchange.id, user_id, rating)
        else:
            await asyncio.to_thread(exchanges.withdraw_rating, exchange.id, user_id, rating)

    @app.event("reaction_added")
    async def reaction_added(body: dict[str, Any], event: dict[str, Any]) -> None:
        await on_reaction(body, event, rating_added=True)

    @app.event("reaction_removed")
    async def reaction_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
        await on_reaction(body, event, rating_added=False)


async def _or_not_saved(
    client: AsyncWebClient, body: dict[str, Any], work: Awaitable[None]
) -> None:
    """Run `work`; if the database is down, tell the person their click was not saved
    (a rating is stored or refused out loud, never silently dropped)."""
    try:
        await work
    except SQLAlchemyError as error:
        log.error("slack.feedback_not_saved", error=type(error).__name__)
        await _ephemeral(client, body, NOT_SAVED)


def _user_id(body: dict[str, Any]) -> str | None:
    return (body.get("user") or {}).get("id")


async def _ephemeral(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    channel = (body.get("channel") or {}).get("id")
    user_id = _user_id(body)
    thread_ts = (body.get("message") or {}).get("thread_ts")
    if channel and user_id:
        await _post_ephemeral(client, channel, user_id, text, thread_ts)


async def _post_ephemeral(
    client: AsyncWebClient, channel: str, user_id: str, text: str, thread_ts: str | None
) -> None:
    try:
        await client.chat_postEphemeral(
            channel=channel, user=user_id, text=text, thread_ts=thread_ts
        )
    except SlackApiError as error:
        log.info("slack.ephemeral_failed", error=error.response.get("error"))
