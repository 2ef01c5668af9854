"""`/supportbot` (per-channel settings for leads) and the App Home tab."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.channels import USAGE, ChannelSettings, describe, parse_command
from bot.slack.leads import LeadDirectory
from supportbot.registry import RegistryError, list_models, promote, rollback

log = structlog.stdlib.get_logger(__name__)

COMMAND = "/supportbot"
LEADS_ONLY = "Only support leads can change how I behave in a channel."
LEADS_ONLY_MODELS = "Only support leads can promote or roll back models."
HOME_TEXT = (
    "*supportbot* answers questions from your team's manuals and release notes, "
    "and cites its sources.\n\n"
    "• Mention me in a channel, or message me here, to ask something.\n"
    "• In support channels I answer real questions without a mention.\n"
    "• Rate answers with :+1: / :-1:; tell me what was wrong and leads review it.\n"
    "• *Talk to a human* under an answer hands the question to the support team."
)


def register_commands(app: AsyncApp, channels: ChannelSettings, leads: LeadDirectory) -> None:
    @app.command(COMMAND)
    async def supportbot_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        channel_id, user_id = command.get("channel_id"), command.get("user_id")
        try:
            action, changes = parse_command(str(command.get("text") or ""))
        except ValueError as error:
            await respond(str(error))
            return
        if action == "help":
            await respond(USAGE)
            return
        if not channel_id:
            return
        if action == "model":
            await respond(await _model_command(channels.engine, leads, client, user_id, changes))
            return
        if action != "show" and not await leads.is_lead(client, user_id):
            await respond(LEADS_ONLY)
            return
        if action == "update":
            await asyncio.to_thread(channels.update, channel_id, str(user_id), **changes)
        elif action == "reset":
            await asyncio.to_thread(channels.reset, channel_id)
        policy = await asyncio.to_thread(channels.policy, channel_id)
        await respond(f"Settings for <#{channel_id}>:\n{describe(policy)}")


async def _model_command(
    engine: Any, leads: LeadDirectory, client: AsyncWebClient, user_id: Any, args: dict[str, Any]
) -> str:
    """`/supportbot model [status|promote ID|rollback]`: changes are for leads only."""

    verb, model_id = args["verb"], args.get("model_id")
    if verb == "status":
        models = await asyncio.to_thread(list_models, engine)
        live = next((m.model_id for m in models if m.is_active), None)
        others = ", ".join(m.model_id for m in models if not m.is_active) or "none"
        return f"Live model: *{live or 'the base model'}*. Also registered: {others}."
    if not await leads.is_lead(client, user_id):
        log.warning("slack.model_change_refused", user=user_id)
        return LEADS_ONLY_MODELS
    try:
        if verb == "promote":
            await asyncio.to_thread(promote, engine, model_id, f"slack:{user_id}")
            return f"*{model_id}* is live now. `/supportbot model rollback` undoes it."
        change = await asyncio.to_thread(rollback, engine, f"slack:{user_id}")
        return f"Rolled back: *{change.model_id or 'the base model'}* is live again."
    except RegistryError as error:
        return f"Nothing changed: {error}."


async def publish_home(client: AsyncWebClient, user_id: str) -> None:
    """The how-to tab everyone who is not a lead sees."""
    view = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": HOME_TEXT}}],
    }
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        log.info("slack.home_publish_failed", error=error.response.get("error"))
