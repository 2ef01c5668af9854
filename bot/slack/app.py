"""The Bolt app: one listener per Slack surface, all on Bolt's asyncio runner.

Why the async app: Bolt acknowledges an Events API request before its listener runs,
and with `AsyncApp` acks, Slack calls and streaming all share one event loop, while the
blocking answer work goes to `SlackAnswers.pool` (`SUPPORTBOT_SLACK_ANSWER_WORKERS`
threads). A burst of slow answers therefore queues on that pool and never holds up an
ack, a button click or another answer's streaming.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncAssistant, AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Conversation
from bot.delivery import Delivery
from bot.exchange_log import ExchangeLog
from bot.slack import dedupe, feedback, products
from bot.slack.activity import Activity, track
from bot.slack.answers import SlackAnswers
from bot.slack.channels import ChannelSettings
from bot.slack.commands import register_commands
from bot.slack.curation import register_curation
from bot.slack.door import payload_problem
from bot.slack.handoff import HandOff
from bot.slack.leads import LeadDirectory
from bot.slack.outbound import SafeAsyncWebClient, safe_client, safe_respond
from bot.slack.questions import (
    ANSWERABLE_SUBTYPES,
    Question,
    clean_text,
    looks_like_question,
    mentions,
)
from knowledge.scope import Scope
from supportbot.models import Surface
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

GREETING = "Hi! Ask me anything about the product. I answer from the docs and cite them."
SUGGESTED_PROMPTS = [
    {"title": "What's new?", "message": "What changed in the latest release?"},
    {"title": "Getting started", "message": "How do I set it up for the first time?"},
    {"title": "Troubleshooting", "message": "Something isn't working. Where do I start?"},
]


@dataclass
class SlackBot:
    app: AsyncApp
    answers: SlackAnswers
    pool: ThreadPoolExecutor
    activity: Activity

    async def start(self) -> None:
        pruned = await asyncio.to_thread(dedupe.prune, self.answers.exchanges.engine)
        if pruned:
            log.info("slack.dedupe_pruned", claims=pruned)
        # One connection pool for every Web API call. Without it the SDK opens a new
        # session (and TLS connection) per call, which costs the event loop, and so
        # every ack, more than anything else the bot does (benchmarks/slack_ack.py).
        self.app.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.app.client.timeout)
        )

    async def stop(self) -> None:
        session = self.app.client.session
        if session is not None:
            await session.close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def build_slack_app(
    settings: Settings,
    conversation: Conversation,
    exchanges: ExchangeLog,
    delivery: Delivery,
    client: AsyncWebClient | None = None,
) -> SlackBot:
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        raise ValueError(
            "Slack needs SUPPORTBOT_SLACK_BOT_TOKEN and SUPPORTBOT_SLACK_SIGNING_SECRET"
        )
    token = settings.slack_bot_token.get_secret_value()
    if client is None:
        # Every post crosses bot.slack.outbound: no text we relay can ping anyone.
        client = SafeAsyncWebClient(token=token, base_url=settings.slack_api_url)
        # Slack rate-limits chat.update and friends per channel: wait and retry on 429.
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    app = AsyncApp(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=client,  # carries the token
        # bot.slack.door verifies every request before Bolt sees it: bounded, strict
        # and quiet (Bolt's own check reads any body and logs it whole at INFO).
        request_verification_enabled=False,
    )
    pool = ThreadPoolExecutor(
        max_workers=settings.slack_answer_workers, thread_name_prefix="slack-answer"
    )
    hand_off = HandOff(settings, exchanges)
    answers = SlackAnswers(settings, conversation, exchanges, pool, hand_off, delivery)
    delivery.resumers[Surface.SLACK] = lambda record: answers.resume(client, record)
    channels = ChannelSettings(settings, exchanges.engine)
    leads = LeadDirectory(settings)

    @app.middleware  # first: no listener sees a payload Slack could not have sent
    async def sound_shape(body: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        if problem := payload_problem(body):
            log.warning("slack.malformed_payload", problem=problem)
            return BoltResponse(status=400, body={"error": "malformed_payload"})
        return await next()

    @app.middleware  # then every listener and helper gets the safe client
    async def inert_posts(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:
        # Bolt builds a plain client for each request; ours makes every post inert.
        context["client"] = safe_client(context.client)
        # A slash command's replies go to its response_url, past the Web API client.
        respond = context.get("respond")  # the property raises without a response_url
        if respond is not None:
            context["respond"] = safe_respond(respond)
        return await next()

    _register_questions(app, answers, channels)
    _register_assistant(app, answers, channels)
    feedback.register(app, settings, exchanges, hand_off, leads)
    register_commands(app, channels, leads)
    register_curation(app, conversation, exchanges.engine, leads)
    products.register(app, answers, channels)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("slack.listener_failed", error=f"{type(error).__name__}: {error}")

    activity = Activity()
    track(app, activity)
    return SlackBot(app=app, answers=answers, pool=pool, activity=activity)


def _event_keys(body: dict[str, Any], event: dict[str, Any]) -> list[str]:
    # The event id catches Slack's retries; the message key catches one message
    # delivered twice as different events (`message` and `app_mention`).
    keys = [str(body.get("event_id") or "")]
    if event.get("channel") and event.get("ts"):
        keys.append(dedupe.message_key(event["channel"], event["ts"]))
    return keys


def _register_questions(app: AsyncApp, answers: SlackAnswers, channels: ChannelSettings) -> None:
    async def ask(
        client: AsyncWebClient,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        *,
        thread_ts: str,
        follow_up: bool,
    ) -> None:
        policy = await asyncio.to_thread(channels.policy, event.get("channel"))
        question = _question(body, event, context, thread_ts, follow_up, policy.scope)
        if _external(body, event, context) and policy.external_users != "answer":
            # Slack Connect: someone from another organisation, and this channel says
            # their questions go to a person (or are left alone).
            log.info("slack.external_asker", policy=policy.external_users, team=question.team_id)
            if policy.external_users == "hand_off":
                await answers.respond(client, question, hand_off=True)
            return
        await answers.respond(client, question)

    @app.event("app_mention")
    async def on_mention(
        client: AsyncWebClient,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        if not _well_formed(event) or event.get("bot_id"):
            return
        thread_ts = event.get("thread_ts") or event["ts"]
        follow_up = thread_ts != event["ts"]
        await ask(client, body, event, context, thread_ts=thread_ts, follow_up=follow_up)

    @app.event("message")
    async def on_message(
        client: AsyncWebClient,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        if not _well_formed(event) or event.get("subtype") not in ANSWERABLE_SUBTYPES:
            return  # edits, joins, deletions, bot posts…
        if event.get("bot_id") or not event.get("user"):
            return
        text = event.get("text") or ""
        if mentions(text, context.bot_user_id):
            return  # the app_mention event answers it
        ts, thread_ts = event["ts"], event.get("thread_ts")
        if event.get("channel_type") == "im":  # a top-level DM; DM threads are assistant's
            await ask(client, body, event, context, thread_ts=thread_ts or ts, follow_up=False)
            return
        if not looks_like_question(clean_text(text)):
            return
        if thread_ts and thread_ts != ts:
            conversation_id = f"slack:{event['channel']}:{thread_ts}"
            joined = await asyncio.to_thread(answers.exchanges.has_exchanges, conversation_id)
            if joined:  # a follow-up in a thread the bot answered
                await ask(client, body, event, context, thread_ts=thread_ts, follow_up=True)
            return
        policy = await asyncio.to_thread(channels.policy, event["channel"])
        if policy.auto_answer:
            await ask(client, body, event, context, thread_ts=ts, follow_up=False)


def _register_assistant(app: AsyncApp, answers: SlackAnswers, channels: ChannelSettings) -> None:
    """Direct messages through Slack's assistant threads (the app's side-panel chat)."""
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def start(say: Any, set_suggested_prompts: Any) -> None:
        await say(GREETING)
        await set_suggested_prompts(prompts=SUGGESTED_PROMPTS)

    @assistant.user_message
    async def on_user_message(
        client: AsyncWebClient,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        set_status: Any,
        set_title: Any,
    ) -> None:
        if not _well_formed(event):
            return
        conversation_id = f"slack:{event['channel']}:{event['thread_ts']}"
        follow_up = await asyncio.to_thread(answers.exchanges.has_exchanges, conversation_id)
        if not follow_up:
            await set_title(clean_text(event.get("text") or "")[:100] or "Question")
        policy = await asyncio.to_thread(channels.policy, None)
        question = _question(body, event, context, event["thread_ts"], follow_up, policy.scope)
        question.status = set_status
        await answers.respond(client, question)

    app.assistant(assistant)


def _question(
    body: dict[str, Any],
    event: dict[str, Any],
    context: AsyncBoltContext,
    thread_ts: str,
    follow_up: bool,
    scope: Scope,
) -> Question:
    return Question(
        channel_id=event["channel"],
        message_ts=event["ts"],
        thread_ts=thread_ts,
        user_id=event.get("user"),
        # The asker's own team: another organisation's in a Slack Connect channel.
        team_id=event.get("user_team") or event.get("team") or context.team_id,
        text=event.get("text") or "",
        scope=scope,
        claim_keys=_event_keys(body, event),
        follow_up=follow_up,
    )


def _external(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> bool:
    """Whether the asker belongs to another organisation (a Slack Connect channel)."""
    home = body.get("team_id") or context.team_id
    asker = event.get("user_team")
    return bool(home and isinstance(asker, str) and asker and asker != home)


def _well_formed(event: dict[str, Any]) -> bool:
    """Malformed or unexpected payloads are logged and dropped, never answered."""
    ok = isinstance(event.get("channel"), str) and isinstance(event.get("ts"), str)
    ok = ok and isinstance(event.get("text", ""), str)
    if not ok:
        log.warning("slack.malformed_event", type=event.get("type"), keys=sorted(event)[:20])
    return ok
