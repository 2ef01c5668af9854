"""The embeddable widget on a help-centre page of another origin: focus moves into the
chat when it opens, Escape closes it and gives focus back, the page hears the chat's
events, and the conversation stays while the visitor browses the site."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import VIEWPORTS, Served, serious_violations
from tests.support.local_http import running

RESET = "How do I factory reset the Nimbus Hub?"


@contextmanager
def help_centre(served: Served) -> Iterator[str]:
    """A help centre on its own origin (another port), whose pages embed the widget."""
    pages = {"/": "Help centre", "/other": "Another article"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            title = pages.get(self.path)
            if title is None:
                self.send_error(404)
                return
            body = host_page(served, title, f"http://127.0.0.1:{self.server.server_port}")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body.encode())))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *_args: object) -> None:
            pass

    with running(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url


def host_page(served: Served, title: str, host: str) -> str:
    """A help-centre page embedding the widget, forwarding its events to "analytics"."""
    return f"""<!doctype html><html lang="en"><head><title>{title}</title></head><body>
<main><h1>{title}</h1><p>Articles</p><a href="{host}/other">Another article</a></main>
<script>
  window.seen = [];
  window.addEventListener("supportbot", (event) => window.seen.push(event.detail));
</script>
<script src="{served.url}/widget.js" data-product="Nimbus Hub" data-label="Help"
        data-color="#1d3557" async></script>
</body></html>"""


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_widget_takes_focus_closes_on_escape_and_reports_events(
    browser, served: Served, viewport: str
) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    with help_centre(served) as host:
        page.goto(f"{host}/")
        browse_the_widget(page, host)
    context.close()


def browse_the_widget(page: Page, host: str) -> None:
    toggle = page.get_by_role("button", name="Help")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.id === 'supportbot-chat'"
    )
    chat = page.frame_locator("#supportbot-chat")
    expect(chat.locator("#question")).to_be_focused()

    page.keyboard.type(RESET)
    page.keyboard.press("Enter")
    answer = chat.locator(".message.bot:not(.intro)").last
    answer.locator(".feedback").wait_for(timeout=30_000)
    answer.get_by_role("button", name="👍 Helpful", exact=True).click()
    expect(answer.locator(".thanks")).to_have_text("Thanks for the feedback!")

    page.keyboard.press("Escape")  # inside the chat's frame
    expect(page.locator("#supportbot-chat")).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.wait_for_function("() => window.seen.some((e) => e.type === 'closed')")
    events = page.evaluate("window.seen")
    assert [e["type"] for e in events] == ["opened", "question", "answer", "rated", "closed"]
    answer_event = events[2]
    assert answer_event["mode"] == "generated"
    assert answer_event["sources"] >= 1
    assert all(RESET not in str(e) and "web-" not in str(e) for e in events), (
        "no text or conversation ids"
    )

    toggle.click()
    page.locator("main a").click()  # the visitor browses on: the chat stays as it was
    page.wait_for_url(f"{host}/other")
    expect(page.locator("#supportbot-chat")).to_be_visible()
    expect(page.frame_locator("#supportbot-chat").locator(".message.user")).to_have_text([RESET])


def test_the_widget_on_its_host_page_has_no_serious_accessibility_violations(
    browser, served: Served
) -> None:
    context = browser.new_context(viewport=VIEWPORTS["desktop"], bypass_csp=True)
    page = context.new_page()
    with help_centre(served) as host:
        page.goto(f"{host}/")
        page.get_by_role("button", name="Help").click()
        frame_element = page.locator("#supportbot-chat")
        expect(frame_element).to_be_visible()
        frame = frame_element.element_handle().content_frame()
        frame.wait_for_selector("#question")
        assert serious_violations(page) == []
        assert serious_violations(frame) == []
    context.close()
