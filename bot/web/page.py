"""The chat page at `/`, its static files, and the embeddable `widget.js`.

The page takes its look and language from URL parameters (the widget passes its data-
attributes through), falling back to the settings: `lang`, `theme` (light, dark or auto:
the browser's `prefers-color-scheme`), `color` (#rrggbb), `title`, `logo` (a path on this
server or the configured logo), `host` (the embedding page's origin, for its events)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot.web.guard import Guard
from bot.web.i18n import catalogue, choose
from supportbot.settings import Settings

HERE = Path(__file__).parent
STATIC = HERE / "static"
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
THEMES = ("light", "dark", "auto")
MAX_TITLE_CHARS = 80
# The review page is for leads only: nobody may frame it.
REVIEW_CSP = (
    "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def build_page(settings: Settings, guard: Guard) -> tuple[APIRouter, StaticFiles]:
    templates = Jinja2Templates(directory=HERE / "templates")
    router = APIRouter(include_in_schema=False)
    # Who may frame the page: the configured sites, or anyone when none are configured
    # (the widget is public by default; the API itself stays same-origin).
    origins = settings.web_allowed_origins
    ancestors = " ".join(["'self'", *origins]) if origins else "*"
    logo = settings.web_logo_url
    logo_host = _origin(logo) if logo and logo.startswith("https://") else ""
    security_headers = {
        "Content-Security-Policy": (
            f"default-src 'self'; img-src 'self' data: {logo_host}".rstrip()
            + "; style-src 'self'; script-src 'self'; "
            f"connect-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; "
            "form-action 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }

    def host_origin(host: str | None) -> str:
        """The embedding page's origin, to send its events to; "" for none or one that
        may not embed the chat."""
        if not host or not ORIGIN.match(host):
            return ""
        return host if not origins or host in origins else ""

    @router.get("/", response_class=HTMLResponse)
    def chat_page(
        request: Request,
        embed: bool = False,
        lang: str | None = None,
        theme: str | None = None,
        color: str | None = None,
        title: str | None = None,
        logo: str | None = None,
        host: str | None = None,
    ) -> HTMLResponse:
        language, answer_language = choose(
            lang, request.headers.get("accept-language"), settings.web_default_language
        )
        strings = catalogue(language)
        default_title = settings.web_title if settings.web_title != "Support" else None
        context = {
            "title": (title or "").strip()[:MAX_TITLE_CHARS] or default_title or strings["title"],
            "token": guard.page_token(),
            "embedded": embed,
            "base": request.scope.get("root_path", ""),
            "language": language,
            "answer_language": answer_language,
            "t": strings,
            "strings_json": json.dumps(strings, ensure_ascii=False).replace("<", "\\u003c"),
            "theme": theme if theme in THEMES else "auto",
            "color": color if color and COLOR.match(color) else settings.web_primary_color or "",
            # Only this server's own images or the configured logo: a URL parameter must
            # not make the page load (and so track visitors through) a third-party image.
            "logo": logo if logo and _own_path(logo) else settings.web_logo_url or "",
            "host": host_origin(host),
        }
        response = templates.TemplateResponse(request, "index.html", context)
        response.headers.update(security_headers)
        return response

    @router.get("/review")
    def review_page() -> FileResponse:
        """Bulk review of harvested pairs, for support leads (token sign-in)."""
        response = FileResponse(STATIC / "review.html", media_type="text/html")
        response.headers.update(security_headers | {"Content-Security-Policy": REVIEW_CSP})
        return response

    @router.get("/widget.js")
    def widget() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    return router, StaticFiles(directory=STATIC)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _own_path(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//") and "\\" not in url
