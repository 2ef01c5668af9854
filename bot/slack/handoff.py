"""Handing a question to a human: the escalation channel, or the leads' user group."""

from __future__ import annotations

import asyncio

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.exchange_log import ExchangeLog
from bot.slack.outbound import intended
from bot.tickets import TicketDesks, open_handoff_ticket, shown_reference
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

TOLD_ASKER = "I've asked the support team to step in; someone will reply in this thread."
ALREADY = "The support team has already been asked to help with this one."


def handoff_text(usergroup: str | None, who: str, question: str, extra: str | None) -> str:
    """The escalation message, from Slack or the web: who needs help, the question
    quoted, then a link or contact (`extra`); pings the leads' group when configured."""
    quoted = "\n".join(f">{line}" for line in question[:1500].splitlines())
    ping = intended(f"<!subteam^{usergroup}>") + " " if usergroup else ""
    text = f"{ping}:raising_hand: {who}:\n{quoted}"
    return f"{text}\n{extra}" if extra else text


class HandOff:
    def __init__(self, settings: Settings, exchanges: ExchangeLog) -> None:
        self.channel = settings.slack_escalation_channel
        self.usergroup = settings.slack_lead_usergroup
        self.exchanges = exchanges
        self.desks = TicketDesks(settings)

    async def __call__(
        self, client: AsyncWebClient, exchange_id: int, requested_by: str | None
    ) -> bool:
        """Escalate once; returns False when it was already escalated or is unknown."""
        exchange = await asyncio.to_thread(self.exchanges.exchange, exchange_id)
        if exchange is None or exchange.channel_id is None:
            return False
        if not await asyncio.to_thread(self.exchanges.escalate, exchange_id):
            return False
        thread_ts = exchange.thread_ts or exchange.message_ts
        link = await self._permalink(client, exchange.channel_id, exchange.reply_ts or thread_ts)
        asker = intended(f"<@{exchange.user_id}>") if exchange.user_id else "Someone"
        why = (
            intended(f"<@{requested_by}>") + " asked for a human"
            if requested_by
            else "I couldn't answer from the docs"
        )
        ping = intended(f"<!subteam^{self.usergroup}>") + " " if self.usergroup else ""
        opened = await open_handoff_ticket(
            self.desks.for_exchange(exchange), self.exchanges, exchange, link=link
        )
        ticket = shown_reference(opened)
        told = f"{TOLD_ASKER} Ticket {ticket}." if ticket else TOLD_ASKER
        extra = f"<{link}|Open the thread>" if link else None
        if ticket:
            extra = f"{extra} · ticket {ticket}" if extra else f"Ticket {ticket}"
        summary = handoff_text(
            self.usergroup, f"{asker} needs help ({why})", exchange.question, extra
        )
        try:
            if self.channel:
                await client.chat_postMessage(channel=self.channel, text=summary)
                await client.chat_postMessage(
                    channel=exchange.channel_id, thread_ts=thread_ts, text=told
                )
            else:
                # No escalation channel: ask in the thread itself, pinging the leads
                # when a group is configured.
                text = f"{ping}{told}" if ping else told
                await client.chat_postMessage(
                    channel=exchange.channel_id, thread_ts=thread_ts, text=text
                )
                if not ping:
                    log.warning("slack.handoff_without_destination", exchange_id=exchange_id)
        except SlackApiError as error:
            log.error("slack.handoff_post_failed", error=error.response.get("error"))
        return True

    @staticmethod
    async def _permalink(client: AsyncWebClient, channel: str, ts: str | None) -> str | None:
        if not ts:
            return None
        try:
            response = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        return response.get("permalink")
