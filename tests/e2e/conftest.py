"""End-to-end tests in a real headless Chromium (Debian's `chromium`, driven by Playwright).

scripts/test.sh installs chromium; without it these tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Frame, Page, sync_playwright
from sqlmodel import Session, select

from bot.server import create_app
from supportbot.models import Exchange, QAPair
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.openai_fake import FakeOpenAI, fake_openai
from tests.support.web import review_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/test.sh installs it): e2e skipped")

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


DESKTOP = {"width": 1200, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
ANSWER = (
    "Press and hold the **Reset** button on the back of the hub for 10 seconds [1]. "
    "Pair your sensors again afterwards [2].\n\n| Step | Time |\n|---|---|\n| Hold | 10 s |"
)
STARTERS = {"*": ["How do I factory reset the Nimbus Hub?", "How do I pair a sensor?"]}


@dataclass
class Served:
    url: str
    app: FastAPI
    llm: FakeOpenAI

    def exchanges(self) -> list[Exchange]:
        with Session(self.app.state.engine) as session:
            return list(session.exec(select(Exchange).order_by(Exchange.id)).all())


@pytest.fixture
def served(sample_knowledge: Path, tmp_path: Path) -> Iterator[Served]:
    """The web chat with the sample knowledge and a local OpenAI-compatible model."""
    with fake_openai() as llm:
        llm.reply = lambda _r: ANSWER
        settings = Settings(
            data_dir=sample_knowledge,
            database_url=f"sqlite:///{tmp_path}/e2e.db",
            llm_base_url=llm.base_url,
            llm_max_retries=0,
            web_starter_questions=STARTERS,
        )
        app = create_app(settings)
        with serve(app) as url:
            yield Served(url, app, llm)


REVIEW_TOKEN = "tok-1-0123456789abcdef"


@pytest.fixture
def review_server(sample_knowledge: Path, tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """The server with a lead's review token ("pat") and two harvested pairs to review."""
    pairs = [
        QAPair(question="How do I pair a sensor?", answer="Press Pair."),
        QAPair(question="Weather?", answer="Sunny."),
    ]
    with review_app(sample_knowledge, tmp_path, REVIEW_TOKEN, pairs) as served:
        yield served


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Where a test's screenshot goes: E2E_SCREENSHOTS_DIR (docs/screenshots updates the
    README's pictures) or the test's own folder."""
    folder = Path(os.environ.get("E2E_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def serious_violations(target: Page | Frame) -> list[str]:
    """axe-core's serious and critical violations in a page or frame (axe is injected
    into it; the context must bypass the page's CSP, which allows only its own scripts)."""
    assert AXE.exists(), "axe-core is missing: run `npm ci` (scripts/test.sh does)"
    target.add_script_tag(path=str(AXE))
    result = target.evaluate(
        "async () => (await axe.run(document, {iframes: false, resultTypes: ['violations']}))"
        ".violations.filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`)"
    )
    return list(result)
