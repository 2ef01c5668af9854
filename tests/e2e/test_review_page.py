"""The leads' review page in a real browser: sign in, edit, approve in bulk."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from playwright.sync_api import expect
from sqlmodel import Session, select

from supportbot.models import PairStatus, QAPair
from tests.e2e.conftest import REVIEW_TOKEN, VIEWPORTS


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_lead_signs_in_edits_approves_and_signs_out(
    browser, review_server: tuple[str, FastAPI], viewport: str
) -> None:
    url, app = review_server
    page = browser.new_page(viewport=VIEWPORTS[viewport])
    page.goto(f"{url}/review")
    page.locator("#token").fill("wrong")
    page.keyboard.press("Enter")
    page.locator("#signin-error").filter(has_text="Only support leads").wait_for()
    page.locator("#token").fill(REVIEW_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#who").filter(has_text="web:pat").wait_for()
    # Signed in: the form and its old error are gone, sign-out is offered.
    expect(page.locator("#signin")).to_be_hidden()
    expect(page.locator("#signin-error")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    first = page.locator(".pair").first
    first.locator("textarea").nth(1).fill("Press and hold Pair for 3 seconds.")
    first.get_by_role("button", name="Save edits").click()
    page.locator("#status-line").filter(has_text="#1 saved").wait_for()
    first.get_by_label("Select pair 1").check()
    page.get_by_role("button", name="Approve selected").click()
    page.locator("#status-line").filter(has_text="1 approved").wait_for()

    page.locator("#status").select_option("all")
    page.get_by_role("button", name="Filter").click()
    approved = page.locator(".pair").first
    approved.get_by_label("Test pair (never trained on)").check()
    page.locator("#status-line").filter(has_text="#1 marked test").wait_for()
    approved.locator("summary", has_text="History").click()
    history = approved.locator(".history li")
    history.filter(has_text="marked by web:pat").wait_for()
    lines = history.all_inner_texts()
    assert "edited by web:pat · changed answer" in lines[0]
    assert "approved by web:pat" in lines[1]
    assert "marked by web:pat · changed test" in lines[2]

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#work")).to_be_hidden()
    expect(page.locator("#who")).to_have_text("")
    expect(page.locator(".pair")).to_have_count(0)
    page.reload()  # the token is forgotten, not only hidden
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#work")).to_be_hidden()
    page.close()

    with Session(app.state.engine) as session:
        pairs = session.exec(select(QAPair).order_by(QAPair.id)).all()
    assert (pairs[0].status, pairs[0].answer, pairs[0].decided_by) == (
        PairStatus.APPROVED,
        "Press and hold Pair for 3 seconds.",
        "web:pat",
    )
    assert pairs[0].test, "the lead put it in the evaluation set"
    assert pairs[1].status == PairStatus.CANDIDATE
