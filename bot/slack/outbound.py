"""The one boundary every Slack post crosses: nobody gets pinged by accident.

Text that reaches Slack comes from askers, documents and the model. Any of it may hold
`<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>` or `<@…>`, and Slack turns those
into notifications. Rather than trusting every call site to escape, the Web API
clients the bot posts with (`SafeAsyncWebClient`, `SafeWebClient`) and Bolt's
`respond` neutralise every mention in every outgoing text field: the top-level text,
Block Kit text objects, views, attachments and streamed Markdown. A mention our own
template means (the leads' group on a hand-off, the asker it is about) is written with
`intended()`, which marks it with a per-process secret no user text can forge.

mrkdwn gets Slack's documented escapes (`&lt;!here&gt;` shows as text); Markdown
(streaming, markdown blocks) gets a zero-width space after the `<`, which no mention
parser matches. Plain-text objects never render mentions and are left alone.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.slack_response import SlackResponse

_MARK = f"\u2063{secrets.token_hex(8)}\u2063"
# Every form Slack turns into a notification (a label after | is allowed in each).
LIVE_MENTION = re.compile(
    r"<(?:!(?:here|channel|everyone|group)\b|!subteam\^|@)[^<>]{0,300}>", re.IGNORECASE
)
_INTENDED = re.compile(rf"{re.escape(_MARK)}(<[^<>]{{1,300}}>){re.escape(_MARK)}")
_MARKDOWN_KEYS = {"markdown_text"}
_TEXT_KEYS = {"text", "fallback", "pretext", "footer", "title", "author_name", "markdown_text"}
_JSON_KEYS = {"blocks", "attachments", "view", "chunks"}


def intended(mention: str) -> str:
    """A mention our own template means to make, e.g. intended("<!subteam^S0LEADS>")."""
    return f"{_MARK}{mention}{_MARK}"


def neutralise(text: str, markdown: bool = False) -> str:
    """`text` with every mention made inert, except those written with `intended()`."""
    if "<" not in text and "\u2063" not in text:
        return text
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(1))
        return f"\x00{len(kept) - 1}\x00"

    text = _INTENDED.sub(keep, text).replace(_MARK, "").replace("\u2063", "")
    text = LIVE_MENTION.sub(lambda m: _inert(m.group(0), markdown), text)
    return re.sub("\x00([0-9]+)\x00", lambda m: kept[int(m.group(1))], text)


def _inert(mention: str, markdown: bool) -> str:
    if markdown:
        return "<\u200b" + mention[1:]
    return "&lt;" + mention[1:-1] + "&gt;"


def safe_payload(payload: Any, markdown: bool = False) -> Any:
    """A copy of an API payload (dict, list, string or JSON string) made inert."""
    if isinstance(payload, dict):
        if payload.get("type") == "plain_text":
            return payload
        markdown = markdown or payload.get("type") in ("markdown", "markdown_text")
        return {key: _safe_field(key, value, markdown) for key, value in payload.items()}
    if isinstance(payload, list):
        return [safe_payload(item, markdown) for item in payload]
    return payload


def _safe_field(key: str, value: Any, markdown: bool) -> Any:
    if isinstance(value, str):
        if key in _JSON_KEYS and value[:1] in ("[", "{"):
            try:
                return json.dumps(safe_payload(json.loads(value), markdown))
            except ValueError:
                return neutralise(value)
        if key in _TEXT_KEYS:
            return neutralise(value, markdown or key in _MARKDOWN_KEYS)
        return value
    return safe_payload(value, markdown)


def _safe_arguments(**arguments: Any) -> dict[str, Any]:
    return {
        name: safe_payload(value) if name in ("data", "params", "json") else value
        for name, value in arguments.items()
    }


class SafeAsyncWebClient(AsyncWebClient):
    """The bot's Web API client: every call's text is made inert on the way out."""

    async def api_call(self, api_method: str, **arguments: Any) -> AsyncSlackResponse:  # type: ignore[override]
        return await super().api_call(api_method, **_safe_arguments(**arguments))


def safe_client(client: AsyncWebClient) -> SafeAsyncWebClient:
    """The same client behind the boundary (Bolt makes a plain one per request)."""
    if isinstance(client, SafeAsyncWebClient):
        return client
    safe = SafeAsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        session=client.session,
        trust_env_in_session=client.trust_env_in_session,
        headers=client.headers,
        logger=client.logger,
        retry_handlers=list(client.retry_handlers),
    )
    safe.default_params = dict(client.default_params)  # the team id, on org installs
    return safe


class SafeWebClient(WebClient):
    """The same boundary for the blocking client (reports posted by the scheduler)."""

    def api_call(self, api_method: str, **arguments: Any) -> SlackResponse:  # type: ignore[override]
        return super().api_call(api_method, **_safe_arguments(**arguments))


def safe_respond(respond: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Bolt's `respond` (a slash command's response_url) behind the same boundary."""

    async def safe(text: Any = "", **kwargs: Any) -> Any:
        if isinstance(text, str):
            text = neutralise(text)
        return await respond(text, **{key: safe_payload(value) for key, value in kwargs.items()})

    return safe
