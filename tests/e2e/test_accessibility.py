"""axe-core (npm, pinned in package.json) on the chat page, light and dark, with an
answer, its citations, sources and actions on screen, and on the review page signed out
and signed in: no serious or critical violations. (The widget: test_widget.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.server import create_app
from supportbot.db import session_scope
from supportbot.models import QAPair
from supportbot.settings import Settings
from tests.e2e.conftest import VIEWPORTS, Served, serious_violations
from tests.support.app_server import serve


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
    browser, sample_knowledge: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(sample_knowledge, data)
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{tmp_path}/r.db",
        review_tokens={"pat": "tok-1-0123456789abcdef"},
    )
    app = create_app(settings)
    with serve(app) as url:
        with session_scope(app.state.engine) as session:
            session.add(QAPair(question="How do I pair a sensor?", answer="Press Pair."))
        context = browser.new_context(viewport=VIEWPORTS["desktop"], bypass_csp=True)
        page = context.new_page()
        page.goto(f"{url}/review")
        assert serious_violations(page) == []
        page.locator("#token").fill("tok-1-0123456789abcdef")
        page.get_by_role("button", name="Sign in").click()
        page.locator(".pair").first.wait_for()
        assert serious_violations(page) == []
        context.close()
