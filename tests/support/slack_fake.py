"""A small local fake of Slack's Web API: real HTTP, the documented response shapes.

It records every call (method and arguments, JSON or form-encoded as the SDK sends
them), keeps the messages posted to each thread so `conversations.replies` can return
them, and can be told to fail a method with a Slack error code.
Reference: https://docs.slack.dev/reference/methods
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.local_http import running
from tests.support.waiting import wait_until

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0001"


_last_ts = 0.0
_ts_lock = threading.Lock()


def unique_ts() -> str:
    """A Slack message ts: the time in microseconds, unique and increasing like Slack's."""
    global _last_ts
    with _ts_lock:
        _last_ts = max(time.time(), _last_ts + 0.000001)
        return f"{_last_ts:.6f}"


@dataclass
class Call:
    method: str
    args: dict[str, Any]


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    usergroup_members: list[str] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> our message
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- for tests -----------------------------------------------------------------------

    def called(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [call.args for call in self.calls if call.method == method]

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition"
    ) -> Any:
        try:
            return wait_until(predicate, timeout, what)
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}; calls: {self.methods()}") from None

    def methods(self) -> list[str]:
        with self._lock:
            return [call.method for call in self.calls]

    def add_thread_message(self, channel: str, thread_ts: str, message: dict[str, Any]) -> None:
        self.threads.setdefault((channel, thread_ts), []).append(message)

    # --- the API -------------------------------------------------------------------------

    def handle(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(Call(method, args))
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return {"ok": True, **handler(args)}

    def _next_ts(self) -> str:
        return unique_ts()

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://example.slack.com/",
            "team": "Example",
            "user": "supportbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _remember(self, args: dict[str, Any], ts: str, text: str) -> dict[str, Any]:
        message = {"type": "message", "bot_id": BOT_ID, "user": BOT_USER_ID, "text": text, "ts": ts}
        self.messages[ts] = message
        if args.get("thread_ts"):
            self.add_thread_message(args["channel"], args["thread_ts"], message)
        return message

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = self._remember(args, ts, args.get("text") or "")
        return {"channel": args["channel"], "ts": ts, "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if args["ts"] in self.messages:
            self.messages[args["ts"]]["text"] = args.get("text", "")
        return {"channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}

    def _chat_startStream(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        self._remember(args, ts, streamed_text([args]))
        return {"channel": args["channel"], "ts": ts}

    def _chat_appendStream(self, args: dict[str, Any]) -> dict[str, Any]:
        self.messages[args["ts"]]["text"] += streamed_text([args])
        return {"channel": args["channel"], "ts": args["ts"]}

    def _chat_stopStream(self, args: dict[str, Any]) -> dict[str, Any]:
        self.messages[args["ts"]]["text"] += streamed_text([args])
        return {"channel": args["channel"], "ts": args["ts"], "message": {"ts": args["ts"]}}

    def _chat_postEphemeral(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("message_ts", "")).replace(".", "")
        return {
            "channel": args["channel"],
            "permalink": f"https://example.slack.com/archives/{args['channel']}/p{ts}",
        }

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        messages = self.threads.get((args["channel"], args["ts"]), [])
        return {"messages": sorted(messages, key=lambda m: float(m["ts"])), "has_more": False}

    def _reactions_add(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {}

    _reactions_remove = _reactions_add
    _assistant_threads_setStatus = _reactions_add
    _assistant_threads_setSuggestedPrompts = _reactions_add
    _assistant_threads_setTitle = _reactions_add

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": "V0001", **_as_json(args.get("view"))}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": "V0002", **_as_json(args.get("view"))}}

    def _usergroups_users_list(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"users": list(self.usergroup_members)}

    def _respond(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {}


def _as_json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def streamed_text(calls: list[dict[str, Any]]) -> str:
    """The Markdown a sequence of start/append/stopStream calls carried."""
    text = ""
    for args in calls:
        text += args.get("markdown_text") or ""
        for chunk in _as_list(args.get("chunks")):
            if chunk.get("type") == "markdown_text":
                text += chunk.get("text", "")
    return text


def _as_list(value: Any) -> list[dict[str, Any]]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                args = json.loads(raw or "{}")
            else:
                args = dict(parse_qsl(raw))
            args.update(parse_qsl(urlsplit(self.path).query))  # the SDK sends some as query
            if self.path.startswith("/respond/"):  # a slash command's response_url
                args = json.loads(raw or "{}")
                method = "respond"
            else:
                method = self.path.split("/api/", 1)[-1].split("?")[0]
            body = json.dumps(fake.handle(method, args)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/_calls":  # for a benchmark that runs the fake in another process
                with fake._lock:
                    calls = [{"method": c.method, "args": c.args} for c in fake.calls]
                body = json.dumps(calls).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.do_POST()  # the SDK reads some methods (conversations.replies) with GET

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with running(server) as url:
        fake.base_url = url
        yield fake
