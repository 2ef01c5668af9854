"""A local HTTP server standing in for a third-party service in connector tests: routes
answer with the service's documented response shapes; every request is recorded; a
route can be told to fail a number of times first (429 with Retry-After, 500…)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.support.local_http import running


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)


# A route: (the request's path with query, its headers) → Reply
Route = Callable[[str, dict[str, str]], Reply]


class ServiceFake:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}  # by path without the query
        self.failures: dict[str, list[Reply]] = {}  # served first, in order
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.posted: list[tuple[str, dict[str, str], bytes]] = []  # path, headers, body
        self._lock = threading.Lock()
        self.url = ""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.posted.append((self.path, headers, body))
                self.do_GET()

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = urlsplit(self.path).path
                with fake._lock:
                    fake.requests.append((self.path, headers))
                    queued = fake.failures.get(path)
                    reply = queued.pop(0) if queued else None
                if reply is None:
                    route = fake.routes.get(path)
                    reply = route(self.path, headers) if route else Reply(404, b"not found")
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def requested(self, prefix: str) -> list[str]:
        """The paths (with queries) requested that start with `prefix`."""
        with self._lock:
            return [path for path, _ in self.requests if path.startswith(prefix)]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


@contextmanager
def service_fake() -> Iterator[ServiceFake]:
    fake = ServiceFake()
    with running(fake.server) as url:
        fake.url = url
        yield fake


class ConditionalPages:
    """A docs site's HTML pages by path, each with its ETag, answering If-None-Match
    with 304 as a web server does; counts the bodies it had to send."""

    def __init__(self, fake: ServiceFake) -> None:
        self.fake = fake
        self.pages: dict[str, tuple[str, str]] = {}  # path → (html, etag)

    def serve(self, path: str, headers: dict[str, str]) -> Reply:
        html, etag = self.pages[urlsplit(path).path]
        if headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        return Reply(200, html, {"Content-Type": "text/html; charset=utf-8", "ETag": etag})

    def bodies_fetched(self) -> list[str]:
        """The paths whose body was sent (not answered 304), sorted."""
        return sorted(
            path
            for path, headers in self.fake.requests
            if path in self.pages and headers.get("if-none-match") != self.pages[path][1]
        )
