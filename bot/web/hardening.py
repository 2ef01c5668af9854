"""Headers and gates every HTTP response gets, whatever route made it.

- `nosniff` and a referrer policy everywhere; a default-deny CSP on responses that
  are not pages (JSON, scripts, styles), so nothing we serve runs as a document.
- The review page is for leads only: `/review` and `/static/review.html` alike carry
  its CSP and refuse to be framed. Other HTML without its own policy (the API docs)
  refuses framing too.
- With an API key set, the API's description (`/docs`, `/openapi.json`) needs the key
  as well: it lists every endpoint and shape an attacker would want.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.guard import API_KEY_HEADER, key_matches
from bot.web.page import REVIEW_CSP

NOT_A_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'"
REVIEW_PATHS = {"/review", "/static/review.html"}
DESCRIPTION_PATHS = {"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"}


class Hardening:
    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if self.api_key and path in DESCRIPTION_PATHS and not self._has_key(scope):
            refusal = {"detail": f"The API description needs the key in {API_KEY_HEADER}."}
            await JSONResponse(refusal, status_code=401)(scope, receive, send)
            return

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                html = headers.get("content-type", "").startswith("text/html")
                if path in REVIEW_PATHS:
                    headers["Content-Security-Policy"] = REVIEW_CSP
                    headers["X-Frame-Options"] = "DENY"
                elif not html:
                    headers.setdefault("Content-Security-Policy", NOT_A_PAGE_CSP)
                elif "content-security-policy" not in headers:
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        await self.app(scope, receive, send_hardened)

    def _has_key(self, scope: Scope) -> bool:
        return key_matches(Headers(scope=scope).get(API_KEY_HEADER, ""), self.api_key)
