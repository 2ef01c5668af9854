"""The chat page in a real browser: ask, watch the answer stream in, follow a source, rate."""

from __future__ import annotations

import time
from pathlib import Path

from sqlmodel import Session, select

from bot.server import create_app
from supportbot.models import Exchange, Feedback, Rating
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.openai_fake import fake_openai

ANSWER = (
    "Press and hold the **Reset** button on the back of the hub for 10 seconds, until the "
    "light blinks orange [1]. The hub restarts with factory settings; pair your sensors "
    "again afterwards [1]."
)


def test_ask_see_the_streamed_answer_with_sources_and_rate_it(
    browser, sample_knowledge: Path, tmp_path: Path
) -> None:
    with fake_openai() as llm:
        llm.reply = lambda _r: ANSWER
        llm.token_delay_s = 0.03  # slow enough to watch the text arrive piece by piece
        settings = Settings(
            data_dir=sample_knowledge,
            database_url=f"sqlite:///{tmp_path}/e2e.db",
            llm_base_url=llm.base_url,
            llm_max_retries=0,
        )
        app = create_app(settings)
        with serve(app) as url:
            page = browser.new_page(viewport={"width": 420, "height": 780})  # phone width
            page.goto(f"{url}/?product=Nimbus%20Hub")
            assert page.locator("#scope").inner_text() == "Answering for: Nimbus Hub · change"

            page.locator("#question").fill("How do I factory reset the Nimbus Hub?")
            page.keyboard.press("Enter")  # keyboard-only: Enter sends

            answer = page.locator(".message.bot").last
            answer.locator(".sources").wait_for(timeout=30_000)
            assert int(answer.get_attribute("data-tokens")) > 3, "the text arrived in pieces"
            assert "Reset" in answer.locator("strong").first.inner_text()
            link = answer.locator(".sources a").first
            assert link.get_attribute("href").startswith("https://docs.nimbus.example/")
            assert link.get_attribute("rel") == "noopener"

            answer.get_by_role("button", name="👍 Helpful", exact=True).click()
            answer.locator(".thanks").filter(has_text="Thanks").wait_for()
            assert (
                answer.get_by_role("button", name="👍 Helpful", exact=True).get_attribute(
                    "aria-pressed"
                )
                == "true"
            )

            with Session(app.state.engine) as session:
                [exchange] = session.exec(select(Exchange)).all()
                [feedback] = session.exec(select(Feedback)).all()
            assert exchange.surface == "web"
            assert exchange.scope == {"products": ["Nimbus Hub"]}
            assert (feedback.exchange_id, feedback.rating) == (exchange.id, Rating.UP)

            page.get_by_role("button", name="Talk to a human").click()
            page.get_by_label("Your e-mail address").fill("pat@example.com")
            page.get_by_role("button", name="Ask a person").click()
            page.locator(".message.bot").filter(has_text="will reply to pat@example.com").wait_for()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                with Session(app.state.engine) as session:
                    escalated = session.get(Exchange, exchange.id)
                    if escalated.escalated and escalated.contact == "pat@example.com":
                        break
                time.sleep(0.05)
            else:
                raise AssertionError("the exchange was not escalated")
            page.close()


def test_errors_are_shown_in_the_page_not_swallowed(
    browser, sample_knowledge: Path, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=sample_knowledge,
        database_url=f"sqlite:///{tmp_path}/e2e.db",
        web_rate_limit_per_minute=1,
    )
    with serve(create_app(settings)) as url:
        page = browser.new_page()
        page.goto(url)
        for question in ("How do I factory reset the Nimbus Hub?", "And the sensors?"):
            page.locator("#question").fill(question)
            page.locator("#send").click()
            page.locator("#send:enabled").wait_for()
        error = page.locator(".message.error").last
        assert "Too many requests" in error.inner_text()
        page.close()
