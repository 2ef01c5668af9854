"""HTTP for connectors: one client per sync with a user agent, timeouts, and retries
that honour the service: 429 and 503 wait for `Retry-After` (capped), other 5xx and
connection errors back off exponentially. 4xx other than 429 are not retried."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog

log = structlog.stdlib.get_logger(__name__)

USER_AGENT = "supportbot-sync/1.0 (+https://github.com/supportbot)"
RETRIES = 4
MAX_WAIT_S = 60.0
BACKOFF_S = 0.5


class HttpError(RuntimeError):
    """A request failed for good (after retries): the status and a short reason."""

    def __init__(self, url: str, status: int | None, reason: str) -> None:
        super().__init__(f"{url}: {'HTTP ' + str(status) if status else reason}")
        self.status = status


def _throttled(response: httpx.Response) -> bool:
    """429 or 503, or GitHub's 403 with its rate limit used up."""
    if response.status_code in (429, 503):
        return True
    return response.status_code == 403 and response.headers.get("x-ratelimit-remaining") == "0"


def retry_after(response: httpx.Response, default: float) -> float:
    """Seconds a throttled response asks to wait: Retry-After in seconds or as an HTTP
    date, else GitHub's x-ratelimit-reset (epoch seconds)."""
    value = response.headers.get("retry-after", "").strip()
    reset = response.headers.get("x-ratelimit-reset", "").strip()
    if not value and reset.isdigit():
        return max(0.0, int(reset) - time.time())
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


class PoliteClient:
    """A thread-safe httpx client that retries what is worth retrying."""

    def __init__(
        self,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: float = 30.0,
        max_wait_s: float = MAX_WAIT_S,
        sleep: Any = time.sleep,
    ) -> None:
        self.client = httpx.Client(
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            auth=auth,
            timeout=timeout,
            follow_redirects=True,
        )
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.waited_s = 0.0  # time spent honouring Retry-After (tests and reports)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET with retries; returns 2xx and 304 responses, raises HttpError otherwise."""
        delay = BACKOFF_S
        for attempt in range(RETRIES + 1):
            try:
                response = self.client.get(url, **kwargs)
            except httpx.TransportError as error:
                if attempt == RETRIES:
                    raise HttpError(url, None, type(error).__name__) from None
                self.sleep(delay)
                delay *= 2
                continue
            if response.status_code < 400 or response.status_code == 304:
                return response
            if _throttled(response) and attempt < RETRIES:
                wait = min(retry_after(response, delay), self.max_wait_s)
                log.info("sync.http_throttled", url=url, status=response.status_code, wait_s=wait)
                self.waited_s += wait
                self.sleep(wait)
                delay *= 2
                continue
            if response.status_code >= 500 and attempt < RETRIES:
                self.sleep(delay)
                delay *= 2
                continue
            raise HttpError(url, response.status_code, response.reason_phrase)
        raise HttpError(url, None, "gave up")  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        self.client.close()
