"""A small local OpenAI-compatible server for tests: real HTTP, documented payload shapes.

Implements POST /v1/chat/completions, streaming (server-sent events) and not, and can be
told to fail: an HTTP 500, a reply slower than the client's timeout, or malformed JSON.
Every request body is recorded so tests can assert what the model was sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.local_http import running

Reply = Callable[[dict[str, Any]], str]


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: Reply = lambda _request: "The answer is in the manual [1]."
        # Failures to serve before behaving normally: "500", "timeout", "malformed".
        self.failures: list[str] = []
        self.delay_s = 0.0
        self.token_delay_s = 0.0  # pause between streamed words, to watch them arrive
        # Each streamed reply: how many words it had, how many were sent, and whether the
        # client hung up before the end (a stopped answer).
        self.streams: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                failure = fake.failures.pop(0) if fake.failures else None
                if failure == "500":
                    self._json(500, {"error": {"message": "boom", "type": "server_error"}})
                elif failure == "timeout":
                    time.sleep(fake.delay_s or 3)
                    self._json(200, fake._completion(body))
                elif failure == "malformed":
                    self._raw(200, b"{this is not json", "application/json")
                elif body.get("stream"):
                    self._stream(body)
                else:
                    self._json(200, fake._completion(body))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                self._raw(status, json.dumps(payload).encode(), "application/json")

            def _raw(self, status: int, data: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def _stream(self, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                text = fake.reply(body)
                words = text.split(" ")
                record = {"words": len(words), "sent": 0, "cut": False}
                fake.streams.append(record)
                self.close_connection = True
                try:
                    for i, word in enumerate(words):
                        piece = word if i == 0 else " " + word
                        self._event(fake._chunk(body, {"content": piece}, None))
                        record["sent"] = i + 1
                        if fake.token_delay_s:
                            time.sleep(fake.token_delay_s)
                    self._event(fake._chunk(body, {}, "stop"))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    record["cut"] = True  # the client stopped reading

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply(body)},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
        }

    def _chunk(self, body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }


@contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    with running(fake.server):
        yield fake


def message_text(request: dict[str, Any], role: str) -> str:
    """The text of the first message with `role` (content may be a string or parts)."""
    content = next(m["content"] for m in request["messages"] if m["role"] == role)
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return content
