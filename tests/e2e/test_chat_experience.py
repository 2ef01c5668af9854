"""The chat page as a visitor uses it, in headless Chromium at desktop and phone widths:
conversations that survive a reload, citations with previews, copy, stop, retry, the
server going away, dark mode and a second language."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from supportbot.models import QuestionRecord, QuestionState
from tests.e2e.conftest import ANSWER, STARTERS, VIEWPORTS, Served, screenshot_path

RESET = "How do I factory reset the Nimbus Hub?"
PAIR = "How do I pair a sensor?"


def ask(page: Page, question: str) -> None:
    page.locator("#question").fill(question)
    page.keyboard.press("Enter")


def answered(page: Page):
    """The last bot message, once its answer is complete."""
    answer = page.locator(".message.bot:not(.intro)").last
    answer.locator(".actions").wait_for(timeout=30_000)
    return answer


def open_chat(browser, served: Served, viewport: str) -> Page:
    page = browser.new_page(viewport=VIEWPORTS[viewport])
    page.goto(served.url)
    return page


def open_history(page: Page, viewport: str) -> None:
    if viewport == "phone":
        page.get_by_role("button", name="Conversations").click()
    page.locator("#conversations").wait_for()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_reload_keeps_the_conversation_and_the_list_switches_between_them(
    browser, served: Served, viewport: str, tmp_path: Path
) -> None:
    page = open_chat(browser, served, viewport)
    starters = page.get_by_role("region", name="Suggested questions").get_by_role("button")
    expect(starters).to_have_text(STARTERS["*"])  # shown on an empty conversation
    ask(page, RESET)
    first = answered(page)
    expect(page.locator("#suggestions")).to_be_hidden()
    assert "10 seconds" in first.locator(".text").inner_text()
    page.screenshot(path=screenshot_path(tmp_path, f"chat-{viewport}-light"))

    page.reload()
    restored = answered(page)
    expect(page.locator(".message.user")).to_have_text([RESET])
    expect(restored.locator(".sources li")).to_have_count(2)
    expect(restored.locator("table")).to_have_count(1)  # GitHub tables

    open_history(page, viewport)
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".message.user")).to_have_count(0)
    page.get_by_role("button", name=PAIR).click()  # a suggested question asks it
    answered(page)
    open_history(page, viewport)
    entries = page.locator("#conversations button")
    expect(entries).to_have_text([PAIR, RESET])  # newest first
    expect(entries.first).to_have_attribute("aria-current", "true")
    entries.nth(1).click()
    expect(page.locator(".message.user")).to_have_text([RESET])
    assert len({e.conversation_id for e in served.exchanges()}) == 2
    page.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_citations_link_to_their_source_and_preview_the_passage(
    browser, served: Served, viewport: str
) -> None:
    page = open_chat(browser, served, viewport)
    ask(page, RESET)
    answer = answered(page)
    cites = answer.locator("a.cite")
    expect(cites).to_have_text(["[1]", "[2]"])
    first_source = answer.locator(".sources li").first.locator("a")
    assert cites.first.get_attribute("href") == first_source.get_attribute("href")
    assert cites.first.get_attribute("href").startswith("https://docs.nimbus.example/")

    preview = answer.locator(".preview").first
    expect(preview).to_be_hidden()
    cites.first.hover()
    expect(preview).to_be_visible()
    title = first_source.inner_text()
    expect(preview.locator("strong")).to_have_text(title)
    [exchange] = served.exchanges()
    assert exchange.sources[0]["excerpt"][:40] in preview.locator(".excerpt").inner_text()

    page.mouse.move(0, 0)
    expect(preview).to_be_hidden()
    cites.nth(1).focus()  # keyboard users get the same preview
    expect(answer.locator(".preview").nth(1)).to_be_visible()
    page.keyboard.press("Escape")
    expect(answer.locator(".preview").nth(1)).to_be_hidden()
    page.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_copy_gives_the_markdown_or_the_plain_text(browser, served: Served, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url)
    page = context.new_page()
    page.goto(served.url)
    ask(page, RESET)
    answer = answered(page)
    answer.get_by_role("button", name="Copy", exact=True).click()
    expect(answer.locator(".copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == ANSWER
    answer.get_by_role("button", name="Copy text").click()
    plain = page.evaluate("navigator.clipboard.readText()")
    assert plain.startswith("Press and hold the Reset button")
    assert "**" not in plain
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_stop_ends_the_answer_on_the_server(browser, served: Served, viewport: str) -> None:
    served.llm.reply = lambda _r: " ".join(f"step{i}" for i in range(300))
    served.llm.token_delay_s = 0.05
    page = open_chat(browser, served, viewport)
    ask(page, RESET)
    streaming = page.locator(".message.bot.streaming")
    expect(streaming.locator(".text")).to_contain_text("step5", timeout=30_000)
    page.get_by_role("button", name="Stop").click()
    stopped = page.locator(".message.bot:not(.intro)").last
    expect(stopped.locator(".note")).to_have_text("Stopped.")
    expect(page.get_by_role("button", name="Send")).to_be_visible()

    stream = served.llm.streams[-1]
    deadline = time.monotonic() + 5
    while not stream["cut"]:  # the model server saw its stream closed
        assert time.monotonic() < deadline, stream
        time.sleep(0.02)
    assert stream["sent"] < stream["words"] / 2
    deadline = time.monotonic() + 5
    while not served.exchanges():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    [exchange] = served.exchanges()
    assert exchange.answer_mode == "abandoned"
    assert exchange.error.startswith("stopped")
    assert exchange.answer.startswith("step0 step1")
    assert "step299" not in exchange.answer
    with Session(served.app.state.engine) as session:
        [question] = session.exec(select(QuestionRecord)).all()
    assert question.state == QuestionState.ABANDONED
    page.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_failure_mid_answer_keeps_the_text_and_retry_answers(
    browser, served: Served, viewport: str
) -> None:
    page = open_chat(browser, served, viewport)
    broken = (
        'event: start\ndata: {"conversation_id": "web-' + "0" * 32 + '"}\n\n'
        'event: token\ndata: "Press and hold"\n\n'
        'event: error\ndata: {"detail": "The answer failed; try again."}\n\n'
    )

    page.route(
        "**/api/chat/stream",
        lambda route: route.fulfill(status=200, content_type="text/event-stream", body=broken),
        times=1,
    )
    ask(page, RESET)
    failed = page.locator(".message.bot.error")
    expect(failed.locator(".error-note")).to_contain_text("The answer failed; try again.")
    expect(failed.locator(".text")).to_have_text("Press and hold")  # the partial text stays
    failed.get_by_role("button", name="Retry").click()
    answer = answered(page)
    assert "10 seconds" in answer.locator(".text").inner_text()
    expect(page.locator(".message.user")).to_have_count(1)  # asked again, not repeated
    page.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_server_that_is_down_gets_a_friendly_message_and_an_automatic_retry(
    browser, served: Served, viewport: str
) -> None:
    page = open_chat(browser, served, viewport)
    page.route("**/api/**", lambda route: route.abort("connectionrefused"))
    page.route("**/healthz", lambda route: route.abort("connectionrefused"))
    ask(page, RESET)
    offline = page.locator(".message.offline")
    expect(offline).to_contain_text("Can't reach the support service right now")
    expect(page.locator("body")).not_to_contain_text("Failed to fetch")
    page.unroute("**/api/**")
    page.unroute("**/healthz")
    answer = answered(page)  # asked again by itself once the server answers
    assert "10 seconds" in answer.locator(".text").inner_text()
    expect(offline).to_have_count(0)
    page.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_dark_mode_by_parameter_or_by_the_browser(
    browser, served: Served, viewport: str, tmp_path: Path
) -> None:
    background = "getComputedStyle(document.body).backgroundColor"
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme="dark")
    page = context.new_page()
    page.goto(served.url)  # no parameter: the browser's preference
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) == "rgb(20, 23, 28)"
    ask(page, RESET)
    answered(page)
    page.screenshot(path=screenshot_path(tmp_path, f"chat-{viewport}-dark"))
    page.goto(f"{served.url}/?theme=light&color=%23006d5b")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) == "rgb(246, 247, 249)"
    header = "getComputedStyle(document.querySelector('.chat-header')).backgroundColor"
    assert page.evaluate(header) == "rgb(0, 109, 91)"
    context.close()
    light = browser.new_page(viewport=VIEWPORTS[viewport])
    light.goto(f"{served.url}/?theme=dark")
    expect(light.locator("html")).to_have_attribute("data-theme", "dark")
    light.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_second_language_for_the_page_and_the_answer(
    browser, served: Served, viewport: str
) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="de-DE")
    page = context.new_page()
    page.goto(served.url)  # the browser's language
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="Senden")).to_be_visible()
    expect(page.get_by_label("Ihre Frage")).to_be_visible()
    ask(page, "Wie setze ich den Nimbus Hub zurück?")
    answer = page.locator(".message.bot:not(.intro)").last
    answer.locator(".actions").wait_for(timeout=30_000)
    expect(answer.get_by_role("button", name="👍 Hilfreich")).to_be_visible()
    assert served.llm.requests[-1]["messages"][-1]["content"].endswith("Answer in German.")
    page.goto(f"{served.url}/?lang=fr")  # the widget's data-language wins
    expect(page.get_by_role("button", name="Envoyer")).to_be_visible()
    context.close()
