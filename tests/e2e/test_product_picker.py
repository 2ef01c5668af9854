"""The clarifying question in a real browser: two products fit, one click answers."""

from __future__ import annotations

from pathlib import Path

from bot.server import create_app
from supportbot.settings import Settings
from tests.support.app_server import serve


def test_two_products_are_offered_and_the_click_answers_for_the_choice(
    browser, two_products_knowledge: Path, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=two_products_knowledge, database_url=f"sqlite:///{tmp_path}/e2e.db"
    )
    app = create_app(settings)
    with serve(app) as url:
        page = browser.new_page(viewport={"width": 420, "height": 780})
        page.goto(f"{url}/")
        page.locator("#question").fill("Can the Nimbus Cam be paired with the Nimbus Hub?")
        page.keyboard.press("Enter")

        choices = page.get_by_role("group", name="Products")
        choices.wait_for()
        buttons = choices.get_by_role("button")
        assert buttons.all_inner_texts() == ["Nimbus Cam", "Nimbus Hub", "All products"]
        choices.get_by_role("button", name="Nimbus Cam", exact=True).click()

        page.locator(".message.bot .sources").last.wait_for()
        assert page.locator("#scope").inner_text() == "Answering for: Nimbus Cam · change"
        assert page.locator(".message.user").count() == 1, "the question is not repeated"

        page.locator("#scope button").click()  # change: the other products are offered
        offer = page.get_by_role("group", name="Products").last
        offer.wait_for()
        assert offer.get_by_role("button").all_inner_texts() == ["Nimbus Hub", "All products"]
        page.close()
