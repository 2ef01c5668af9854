"""Curation in Slack's App Home: the leads' queue of candidates and knowledge gaps.

Leads see each open pair with its question, answer (or "needs an answer"), rating,
comment and sources, and Approve / Edit / Reject buttons; Edit opens a modal whose
submission approves the edited pair. Everyone else gets the how-to tab, and a click
from a non-lead is refused and changes nothing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from bot.conversation import Conversation
from bot.slack.blocks import (
    INPUT_LIMIT,
    Block,
    action_id_value,
    context_block,
    escape,
    section,
    strict_id,
)
from bot.slack.commands import publish_home
from bot.slack.leads import LeadDirectory
from finetune_data.curation import CurationError, decide, get_pair, list_pairs
from supportbot.models import ModelVersion, PairKind, PairStatus, QAPair
from supportbot.registry import awaiting_approval, promote

log = structlog.stdlib.get_logger(__name__)

APPROVE, EDIT, REJECT = "pair_approve", "pair_edit", "pair_reject"
PROMOTE = "model_promote"
EDIT_MODAL = "pair_edit_modal"
QUEUE_SIZE = 15  # pairs per view: App Home allows 100 blocks, each pair takes 5
LEADS_ONLY = ":no_entry: Only support leads can review answers."
ORIGINS = {
    "lead_correction": "corrected by a lead",
    "user_correction": "corrected by a user",
    "thumbs_up": "rated :+1:",
    "thumbs_down": "rated :-1:, needs an answer",
}


def queue_blocks(
    pairs: list[QAPair], notice: str | None = None, models: list[ModelVersion] | None = None
) -> list[Block]:
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice))
    blocks += model_blocks(models or [])
    blocks.append(
        {"type": "header", "text": {"type": "plain_text", "text": "Answers to review"}},
    )
    if not pairs:
        blocks.append(section("Nothing to review. :tada:"))
    for pair in pairs[:QUEUE_SIZE]:
        answer = escape(pair.answer) if pair.answer else "_Needs an answer._"
        blocks += [
            {"type": "divider"},
            section(f"*Q:* {escape(pair.question[:1200])}\n*A:* {answer[:1500]}"),
            context_block(_details(pair)),
            {
                "type": "actions",
                "block_id": f"pair:{pair.id}",
                "elements": [
                    _button("Approve", APPROVE, pair, "primary")
                    if pair.kind == PairKind.ANSWER
                    else _button("Answer", EDIT, pair, "primary"),
                    _button("Edit", EDIT, pair),
                    _button("Reject", REJECT, pair, "danger"),
                ],
            },
        ]
    if len(pairs) > QUEUE_SIZE:
        blocks.append(context_block("More are waiting: review them in bulk on the web page."))
    return blocks


def model_blocks(models: list[ModelVersion]) -> list[Block]:
    """Fine-tuned models that passed the evaluation gate and wait for a lead."""
    if not models:
        return []
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Models awaiting approval"}}
    ]
    for model in models[:5]:
        gate = model.eval_scores.get("gate") or {}
        blocks += [
            section(
                f"*{escape(model.model_id)}* won {gate.get('wins', '?')} and lost "
                f"{gate.get('losses', '?')} of {gate.get('pairs', '?')} test pairs against "
                f"the live model: {escape(str(gate.get('reason', '')))}"
            ),
            {
                "type": "actions",
                "block_id": f"model:{model.id}",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Put live"},
                        "action_id": PROMOTE,
                        "value": str(model.id),
                        "style": "primary",
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Put this model live?"},
                            "text": {
                                "type": "plain_text",
                                "text": "It answers every question from now on. "
                                "`supportbot models rollback` restores the current one.",
                            },
                            "confirm": {"type": "plain_text", "text": "Put live"},
                            "deny": {"type": "plain_text", "text": "Cancel"},
                        },
                    }
                ],
            },
        ]
    return blocks


def _details(pair: QAPair) -> str:
    parts = [f"#{pair.id}", ORIGINS.get(pair.origin.value, pair.origin.value)]
    if pair.surface:
        parts.append(f"from {pair.surface}")
    if pair.merged_exchange_ids:
        parts.append(f"asked {len(pair.merged_exchange_ids) + 1} times")
    if pair.comment:
        parts.append(f"comment: “{escape(pair.comment[:300])}”")
    titles = [s.get("title") for s in pair.context or [] if s.get("title")]
    if titles:
        parts.append("sources: " + ", ".join(escape(t) for t in titles[:3]))
    return " · ".join(parts)


def _button(text: str, action_id: str, pair: QAPair, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": str(pair.id),
    }
    if style:
        button["style"] = style
    return button


def edit_modal(pair: QAPair) -> Block:
    def field(block_id: str, label: str, value: str, limit: int) -> Block:
        element: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": True,
            "max_length": limit,
        }
        if value:
            element["initial_value"] = value
        return {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": label},
            "element": element,
        }

    return {
        "type": "modal",
        "callback_id": EDIT_MODAL,
        "private_metadata": json.dumps({"pair_id": pair.id}),
        "title": {"type": "plain_text", "text": f"Review #{pair.id}"},
        "submit": {"type": "plain_text", "text": "Approve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            field("question", "Question", pair.question, INPUT_LIMIT),
            field("answer", "Answer", pair.answer, INPUT_LIMIT),
        ],
    }


def _input(values: Any, block_id: str) -> str:
    """A modal text input's value; empty for anything of the wrong shape."""
    block = values.get(block_id) if isinstance(values, dict) else None
    element = block.get("value") if isinstance(block, dict) else None
    text = element.get("value") if isinstance(element, dict) else None
    return text.strip() if isinstance(text, str) else ""


def register_curation(
    app: AsyncApp, conversation: Conversation, engine: Engine, leads: LeadDirectory
) -> None:

    async def publish_queue(client: AsyncWebClient, user_id: str, notice: str | None) -> None:
        pairs = await asyncio.to_thread(
            list_pairs, engine, PairStatus.CANDIDATE, None, QUEUE_SIZE + 1
        )
        models = await asyncio.to_thread(awaiting_approval, engine)
        view = {"type": "home", "blocks": queue_blocks(pairs, notice, models)}
        try:
            await client.views_publish(user_id=user_id, view=view)
        except SlackApiError as error:
            log.info("slack.home_publish_failed", error=error.response.get("error"))

    async def as_lead(body: dict[str, Any], client: AsyncWebClient) -> str | None:
        """The lead's user id, or None for anyone else."""
        user_id = (body.get("user") or {}).get("id")
        if await leads.is_lead(client, user_id):
            return user_id
        # Only a stale or forged click gets here (non-leads' Home has no such buttons):
        # their App Home stays as it is; the log keeps the attempt.
        log.warning("slack.curation_refused", user=user_id)
        return None

    async def decided(
        client: AsyncWebClient, user_id: str, pair_id: int, status: PairStatus, **edits: Any
    ) -> None:
        index = await asyncio.to_thread(conversation.verified_answer_indexer)
        conflicts = index.conflicts if index is not None else None
        try:
            await asyncio.to_thread(
                decide,
                engine,
                pair_id,
                status,
                f"slack:{user_id}",
                index,
                conflicts=conflicts,
                **edits,
            )
            notice = f"#{pair_id} {status.value}."
        except CurationError as error:
            notice = f":warning: {error}"
        await publish_queue(client, user_id, notice)

    @app.action(APPROVE)
    async def approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if (user_id := await as_lead(body, client)) and (pair_id := action_id_value(body)):
            await decided(client, user_id, pair_id, PairStatus.APPROVED)

    @app.action(PROMOTE)
    async def put_live(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if not (user_id := await as_lead(body, client)) or not (
            version_id := action_id_value(body)
        ):
            return
        waiting = {m.id: m for m in await asyncio.to_thread(awaiting_approval, engine)}
        model = waiting.get(version_id)
        if model is None:
            notice = ":warning: That model is no longer waiting for approval."
        else:
            await asyncio.to_thread(
                promote, engine, model.model_id, f"slack:{user_id}", "approved in App Home"
            )
            notice = f"{model.model_id} is live. `supportbot models rollback` undoes it."
        await publish_queue(client, user_id, notice)

    @app.action(REJECT)
    async def reject(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if (user_id := await as_lead(body, client)) and (pair_id := action_id_value(body)):
            await decided(client, user_id, pair_id, PairStatus.REJECTED)

    @app.action(EDIT)
    async def open_editor(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if not (await as_lead(body, client)) or not (pair_id := action_id_value(body)):
            return
        try:
            pair = await asyncio.to_thread(get_pair, engine, pair_id)
            await client.views_open(trigger_id=body.get("trigger_id", ""), view=edit_modal(pair))
        except (CurationError, SlackApiError) as error:
            log.warning("slack.curation_edit_failed", error=str(error))

    @app.view(EDIT_MODAL)
    async def edited(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body.get("view") or {}
        values = view.get("state", {}).get("values", {})
        question = _input(values, "question")
        answer = _input(values, "answer")
        filled = {"question": question, "answer": answer}
        errors = {name: "This can't be empty." for name, text in filled.items() if not text}
        errors |= {  # Slack enforces the input's limit; a forged submission may not
            name: f"At most {INPUT_LIMIT:,} characters, please."
            for name, text in filled.items()
            if len(text) > INPUT_LIMIT
        }
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        try:
            pair_id = strict_id(json.loads(view.get("private_metadata") or "{}")["pair_id"])
        except (ValueError, KeyError, TypeError):
            pair_id = None
        if pair_id is None:
            log.warning("slack.malformed_modal", callback_id=EDIT_MODAL)
            return
        if user_id := await as_lead(body, client):
            await decided(
                client, user_id, pair_id, PairStatus.APPROVED, question=question, answer=answer
            )

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        user_id = event.get("user")
        if event.get("tab") != "home" or not user_id:
            return
        if await leads.is_lead(client, user_id):
            await publish_queue(client, user_id, None)
        else:
            await publish_home(client, user_id)
