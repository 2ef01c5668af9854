"""Who may call the web API, and how often.

- API key (optional): programmatic callers send `X-API-Key`; the chat page carries a
  short-lived token signed with the key (HMAC), so the key itself never reaches a
  browser.
- Rate limit: a moving window per client address, with the `limits` library; 429 with
  `Retry-After` when exceeded.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from fastapi import HTTPException, Request
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from supportbot.settings import Settings

PAGE_TOKEN_TTL_S = 12 * 3600
API_KEY_HEADER = "X-API-Key"


def key_matches(given: str, key: str | None) -> bool:
    """Whether `given` is the API key (in constant time); False when none is set."""
    return bool(key) and bool(given) and hmac.compare_digest(given.encode(), key.encode())


class Guard:
    def __init__(self, settings: Settings) -> None:
        self.api_key = settings.web_api_key.get_secret_value() if settings.web_api_key else None
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.limit = RateLimitItemPerMinute(settings.web_rate_limit_per_minute)

    # --- page tokens -------------------------------------------------------------------

    def page_token(self, now: float | None = None) -> str | None:
        if self.api_key is None:
            return None
        expires = int((now or time.time()) + PAGE_TOKEN_TTL_S)
        return f"{expires}.{self._sign(str(expires))}"

    def _sign(self, message: str) -> str:
        assert self.api_key is not None
        return hmac.new(self.api_key.encode(), message.encode(), hashlib.sha256).hexdigest()

    def _valid_page_token(self, token: str) -> bool:
        expires, _, signature = token.partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(signature, self._sign(expires))

    # --- checks (FastAPI dependencies) ----------------------------------------------------

    def authorize(self, request: Request) -> None:
        if self.api_key is None:
            return
        if key_matches(request.headers.get(API_KEY_HEADER, ""), self.api_key):
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self._valid_page_token(token):
            return
        raise HTTPException(
            status_code=401,
            detail=f"This API needs a key: send it in the {API_KEY_HEADER} header.",
        )

    def rate_limit(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if self.limiter.hit(self.limit, "web", client):
            return
        reset_at, _remaining = self.limiter.get_window_stats(self.limit, "web", client)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise HTTPException(
            status_code=429,
            detail=f"Too many requests; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
