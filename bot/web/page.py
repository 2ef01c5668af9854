"""The chat page at `/`, its static files, and the embeddable `widget.js`."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot.web.guard import Guard
from supportbot.settings import Settings

HERE = Path(__file__).parent
STATIC = HERE / "static"
TITLE = "Support"
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
    security_headers = {
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"connect-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; "
            "form-action 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }

    @router.get("/", response_class=HTMLResponse)
    def chat_page(request: Request, embed: bool = False) -> HTMLResponse:
        context = {
            "title": TITLE,
            "token": guard.page_token(),
            "embedded": embed,
            "base": request.scope.get("root_path", ""),
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
