"""The door to /slack/events: bounded, strict and quiet, before Bolt sees anything.

Bolt's own verification reads any body whole, parses it before checking the
signature (so hostile JSON costs us without a signature) and logs a rejected body at
INFO. Here a request is refused at the cheapest point that decides it: a declared size
over the limit before a byte is read, a running count while reading, the timestamp's
form and age, then the signature (Slack's scheme, via slack_sdk's verifier). A
refusal logs its reason, the body's size and a hash prefix, never the body.
Reference: https://docs.slack.dev/authentication/verifying-requests-from-slack/
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse
from slack_sdk.signature import SignatureVerifier

log = structlog.stdlib.get_logger(__name__)

MAX_CLOCK_SKEW_S = 300  # Slack's advice: refuse requests older than five minutes
_DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII only, unlike int()


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.reason}, status_code=self.status)


class Door:
    def __init__(
        self, signing_secret: str, max_body_bytes: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))
        self.max_body_bytes = max_body_bytes
        self.clock = clock

    async def admit(self, request: Request) -> bytes:
        """The verified body; raises Refused (logged quietly) otherwise."""
        body = b""
        try:
            body = await self._read(request)
            self._check(request, body)
        except Refused as refused:
            log.warning(
                "slack.request_refused",
                reason=refused.reason,
                status=refused.status,
                bytes=len(body),
                declared_bytes=request.headers.get("content-length"),
                sha256=hashlib.sha256(body).hexdigest()[:16] if body else None,
                client=request.client.host if request.client else None,
            )
            raise
        return body

    async def _read(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not _DIGITS.fullmatch(declared):
                raise Refused(400, "invalid_content_length")
            if int(declared) > self.max_body_bytes:
                raise Refused(413, "body_too_large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise Refused(413, "body_too_large")
            chunks.append(chunk)
        return b"".join(chunks)

    def _check(self, request: Request, body: bytes) -> None:
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not timestamp or not signature:
            raise Refused(401, "unsigned")
        if not _DIGITS.fullmatch(timestamp):
            raise Refused(401, "invalid_timestamp")
        if abs(self.clock() - int(timestamp)) > MAX_CLOCK_SKEW_S:
            raise Refused(401, "stale_timestamp")
        if not self.verifier.is_valid(body, timestamp, signature):
            raise Refused(401, "invalid_signature")


class _Clock:
    """slack_sdk's verifier asks a Clock object for the time."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


_OBJECTS = ("user", "channel", "container", "message", "view", "event", "enterprise", "team")
_EVENT_OBJECTS = ("item", "assistant_thread", "message", "view", "previous_message")
_COMMAND_FIELDS = ("command", "response_url", "user_id", "channel_id", "trigger_id")


def payload_problem(body: object) -> str | None:
    """Why a signed payload cannot be one Slack sends, or None when its shape is sound.

    Bolt reads these fields while building a listener's arguments, before the
    listener can acknowledge; a wrong shape there made Slack wait 3 s for a 404.
    """
    if not isinstance(body, dict):
        return "not_an_object"
    for key in _OBJECTS:
        if key in body and not isinstance(body[key], dict | None):
            return f"{key}_not_an_object"
    actions = body.get("actions")
    if actions is not None and not (
        isinstance(actions, list) and all(isinstance(a, dict) for a in actions)
    ):
        return "actions_not_a_list_of_objects"
    if "command" in body:
        missing = [f for f in _COMMAND_FIELDS if not isinstance(body.get(f), str) or not body[f]]
        if missing:
            return f"command_without_{missing[0]}"
    event = body.get("event") or {}
    for key in _EVENT_OBJECTS:
        if key in event and not isinstance(event[key], dict | None):
            return f"event_{key}_not_an_object"
    view = body.get("view") or {}
    if "state" in view and not isinstance(view["state"], dict):
        return "view_state_not_an_object"
    return None
