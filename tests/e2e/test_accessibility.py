"""axe-core (npm, pinned in package.json) on the chat page, light and dark, with an
answer, its citations, sources and actions on screen, and on the review page signed out
and signed in: no serious or critical violations. (The widget: test_widget.py.)"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.e2e.conftest import REVIEW_TOKEN, VIEWPORTS, Served, serious_violations


@pytest.mark.parametrize(("viewport", "theme"), [("desktop", "light"), ("phone", "dark")])
def test_the_chat_page_has_no_serious_violations(
    browser, served: Served, viewport: str, theme: str
) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], bypass_csp=True)
    page = context.new_page()
    page.goto(f"{served.url}/?theme={theme}")
    page.get_by_role("region", name="Suggested questions").wait_for()
    assert serious_violations(page) == []
    page.locator("#question").fill("How do I factory reset the Nimbus Hub?")
    page.keyboard.press("Enter")
    answer = page.locator(".message.bot:not(.intro)").last
    answer.locator(".feedback").wait_for(timeout=30_000)
    answer.locator("a.cite").first.hover()  # with a citation's preview open
    assert serious_violations(page) == []
    context.close()


def test_the_review_page_has_no_serious_violations(
    browser, review_server: tuple[str, FastAPI]
) -> None:
    url, _app = review_server
    context = browser.new_context(viewport=VIEWPORTS["desktop"], bypass_csp=True)
    page = context.new_page()
    page.goto(f"{url}/review")
    assert serious_violations(page) == []
    page.locator("#token").fill(REVIEW_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.locator(".pair").first.wait_for()
    assert serious_violations(page) == []
    context.close()
