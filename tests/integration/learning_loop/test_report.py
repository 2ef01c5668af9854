"""The weekly report: counted over its period, knowledge gaps grouped, posted to Slack."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from finetune_data.report import build_report, render
from supportbot import db
from supportbot.db import session_scope
from supportbot.models import (
    Exchange,
    Rating,
    Surface,
    utcnow,
)
from tests.support.learning import (
    TOPICS,
    add_exchange,
    rate,
)
from tests.support.slack_fake import fake_slack


def test_the_report_counts_the_period_and_groups_knowledge_gaps(tmp_path: Path, embed) -> None:

    engine = db.create_db_engine(f"sqlite:///{tmp_path}/report.db")
    db.upgrade(engine)
    answered = [
        add_exchange(engine, f"How do I {t}?", "Like so [1].", Surface.SLACK) for t in TOPICS[:4]
    ]
    rate(engine, answered[0], Rating.UP)
    rate(engine, answered[1], Rating.UP)
    rate(engine, answered[2], Rating.DOWN, reason="vague")
    rate(engine, answered[3], Rating.DOWN, correction="Better answer.")
    for question in (
        "Does the hub support Zigbee 4?",
        "Is Zigbee 4 supported by the hub?",
        "Can I use Zigbee 4 devices?",
        "What is the warranty period?",
    ):
        add_exchange(
            engine,
            question,
            "I couldn't find this.",
            Surface.WEB,
            abstained=True,
            answer_mode="abstained",
            escalated=True,
        )
    old = add_exchange(engine, "Ancient question?", "Old.", Surface.WEB)
    with session_scope(engine) as session:
        session.get(Exchange, old).created_at = utcnow() - timedelta(days=30)

    report = build_report(engine, embed, days=7)
    assert report.questions == 8
    assert (report.answered, report.abstained, report.handoffs) == (4, 4, 4)
    assert report.by_surface == {"slack": 4, "web": 4}
    assert (report.thumbs_up, report.thumbs_down, report.thumbs_up_rate) == (2, 2, 0.5)
    top = report.gaps[0]
    assert top.count == 3, "the three Zigbee questions are one topic"
    assert "Zigbee" in top.question
    questions = {t.question for t in report.gaps}
    assert any("warranty" in q for q in questions)
    assert any("How do I" in q for q in questions), "a 👎 without correction is a gap"
    assert not any("Ancient" in q for q in questions)
    text = render(report, slack=True)
    assert "*Top knowledge gaps*" in text
    assert "50%" in text


def test_report_cli_prints_and_posts_to_the_leads_channel(tmp_path: Path) -> None:

    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.create_db_engine(url)
    db.upgrade(engine)
    add_exchange(
        engine,
        "Zigbee 4?",
        "I couldn't find this.",
        Surface.WEB,
        abstained=True,
        answer_mode="abstained",
    )
    with fake_slack() as slack:
        env = {
            **os.environ,
            "SUPPORTBOT_DATABASE_URL": url,
            "SUPPORTBOT_SLACK_BOT_TOKEN": "xoxb-1-2-report",
            "SUPPORTBOT_SLACK_API_URL": f"{slack.base_url}/api/",
            "SUPPORTBOT_SLACK_LEADS_CHANNEL": "C0LEADS",
            "COLUMNS": "200",
        }
        result = subprocess.run(
            [sys.executable, "-m", "supportbot", "report", "--post"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "Questions: 1 (1 web)" in result.stdout
        [posted] = slack.called("chat.postMessage")
        assert posted["channel"] == "C0LEADS"
        assert "Zigbee 4?" in posted["text"]
