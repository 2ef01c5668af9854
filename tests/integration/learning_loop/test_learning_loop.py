"""The learning loop on a real database: rated exchanges → harvest → curation → export."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bot.slack.blocks import ACTION_HELPFUL
from bot.slack.curation import APPROVE
from finetune_data.curation import CurationError, decide, edit, store_indexer
from finetune_data.datasets import export, validate_file
from finetune_data.harvest import harvest
from knowledge.retrieval import build_retriever, retrieve
from knowledge.stores import open_document_store
from supportbot import db
from supportbot.db import session_scope
from supportbot.models import (
    Exchange,
    PairKind,
    PairOrigin,
    PairStatus,
    QAPair,
    Rating,
    Surface,
)
from supportbot.settings import Settings
from tests.support.learning import (
    CONTEXT,
    PERSONAL,
    TOPICS,
    add_exchange,
    all_exchanges,
    all_feedback,
    all_pairs,
    one_pair,
    rate,
)
from tests.support.slack_harness import block_action, mention_event, serve_slack_bot


def test_the_loop_from_ratings_to_a_valid_dataset(engine: sa.Engine, embed, tmp_path: Path) -> None:
    db.upgrade(engine)
    # Slack-shaped and web exchanges, rated in every way a person can.
    liked = [
        add_exchange(
            engine,
            f"How do I {topic}?",
            f"To {topic}, open Settings [1].",
            Surface.SLACK if i % 2 else Surface.WEB,
            channel_id="C0SUPPORT" if i % 2 else "web",
        )
        for i, topic in enumerate(TOPICS)
    ]
    for exchange_id in liked:
        rate(engine, exchange_id, Rating.UP, user_id="U1")
    personal = add_exchange(
        engine,
        "My name is Jane Doe, email jane.doe@example.com, phone +1 415 555 0134: "
        "how do I reset? token xoxb-1111-2222-secret",
        "Hold Reset for 10 seconds [1].",
        Surface.SLACK,
    )
    rate(engine, personal, Rating.UP, user_id="U2")
    corrected = add_exchange(engine, "How long do I hold Reset?", "5 seconds [1].", Surface.SLACK)
    rate(engine, corrected, Rating.DOWN, user_id="U3", correction="About 8 seconds.")
    rate(engine, corrected, Rating.DOWN, user_id="ULEAD", correction="10 seconds.", from_lead=True)
    gap = add_exchange(
        engine,
        "Does the hub support Zigbee 4?",
        "I couldn't find this.",
        Surface.WEB,
        answer_mode="abstained",
        abstained=True,
    )
    rate(engine, gap, Rating.DOWN, user_id="web:x", reason="not answered")
    twin = add_exchange(engine, "How do I pair a motion sensor?", "Open Settings [1].", Surface.WEB)
    rate(engine, twin, Rating.UP, user_id="web:y")
    excerpt_only = add_exchange(
        engine, "What is NH-200?", "> excerpt", Surface.WEB, answer_mode="excerpts"
    )
    rate(engine, excerpt_only, Rating.UP, user_id="web:z")

    report = harvest(engine, embed)
    assert (report.candidates, report.gaps, report.merged, report.skipped) == (14, 1, 1, 1)
    pairs = all_pairs(engine)
    by_exchange = {p.origin_exchange_id: p for p in pairs}
    lead_pair = by_exchange[corrected]
    assert (lead_pair.origin, lead_pair.answer) == (PairOrigin.LEAD_CORRECTION, "10 seconds.")
    assert lead_pair.bot_answer == "5 seconds [1]."
    assert lead_pair.context == CONTEXT, "the prompt's sources travel with the pair"
    assert by_exchange[gap].kind == PairKind.GAP
    first_topic = by_exchange[liked[0]]
    assert first_topic.merged_exchange_ids == [twin], "the near-duplicate was folded in"
    assert {p.surface for p in pairs} == {"slack", "web"}
    scrubbed = by_exchange[personal].question
    for secret in PERSONAL:
        assert secret not in scrubbed
    assert "[email]" in scrubbed

    # Harvesting again adds nothing.
    again = harvest(engine, embed)
    assert (again.candidates, again.gaps, again.merged) == (0, 0, 0)
    assert len(all_pairs(engine)) == len(pairs)

    # Curation: approve, edit, reject; every decision records who.
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    index = store_indexer(settings)
    for pair in pairs:
        if pair.kind == PairKind.ANSWER and pair.origin_exchange_id != liked[-1]:
            decide(engine, pair.id, PairStatus.APPROVED, "cli:lead", index)
    edit(engine, lead_pair.id, "cli:lead", index, answer="Hold Reset for 10 seconds [1].")
    decide(engine, by_exchange[liked[-1]].id, PairStatus.REJECTED, "cli:lead", index)
    with pytest.raises(CurationError, match="no answer yet"):
        decide(engine, by_exchange[gap].id, PairStatus.APPROVED, "cli:lead", index)
    gap_pair = decide(
        engine,
        by_exchange[gap].id,
        PairStatus.APPROVED,
        "cli:lead",
        index,
        answer="Not yet: Zigbee 4 support is planned.",
    )
    assert gap_pair.kind == PairKind.ANSWER
    decided = all_pairs(engine)
    assert all(p.decided_by == "cli:lead" and p.decided_at for p in decided)
    assert next(p for p in decided if p.id == lead_pair.id).edited_by == "cli:lead"

    # Approved pairs are verified answers retrieval can find now.

    store = open_document_store(settings)
    found = retrieve(build_retriever(settings, store), "Zigbee 4 support", top_k=3)
    assert found[0].meta["kind"] == "verified_answer"
    assert "Zigbee 4 support is planned" in found[0].content

    # Export: a valid OpenAI chat dataset without the personal data.
    result = export(engine, tmp_path)
    assert result.problems == []
    dataset = result.dataset
    assert dataset.train_count + dataset.eval_count == 14
    assert dataset.eval_count >= 1
    train, valid = Path(dataset.train_path), Path(dataset.eval_path)
    assert validate_file(train) == []
    text = train.read_text() + valid.read_text()
    for secret in PERSONAL:
        assert secret not in text
    first = json.loads(train.read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    assert (
        '<source id="1" title="Troubleshooting" section="Factory reset">'
        in first["messages"][1]["content"]
    )
    manifest = json.loads(result.manifest_path.read_text())
    assert sorted(manifest["pair_ids"]["train"] + manifest["pair_ids"]["validation"]) == sorted(
        p.id for p in decided if p.status == PairStatus.APPROVED
    )
    assert manifest["files"]["train"]["examples"] == dataset.train_count
    # The split is deterministic: a second export puts every pair on the same side.
    second = json.loads(export(engine, tmp_path / "again").manifest_path.read_text())
    assert second["pair_ids"] == manifest["pair_ids"]


def test_the_validator_implements_openais_format_checks(tmp_path: Path) -> None:
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    bad = [
        "not json",
        json.dumps({"prompt": "q", "completion": "a"}),
        json.dumps({"messages": [{"role": "robot", "content": "x"}]}),
        json.dumps({"messages": [{"role": "user", "content": ""}]}),
        json.dumps({"messages": [{"role": "user", "content": "q", "extra": 1}]}),
    ]
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join([json.dumps(good)] * 3 + bad) + "\n")
    problems = validate_file(path)
    joined = "\n".join(problems)
    assert "at least 10 are needed" in joined
    assert "data.jsonl:4: not JSON" in joined
    assert "data.jsonl:5: missing messages list" in joined
    assert "unrecognised role 'robot'" in joined
    assert "empty or non-text content" in joined
    assert "unrecognised message keys" in joined
    assert "no assistant message" in joined
    path.write_text("\n".join([json.dumps(good)] * 10) + "\n")
    assert validate_file(path) == []


def test_the_cli_lists_approves_and_records_the_operator(tmp_path: Path) -> None:
    env_db = f"sqlite:///{tmp_path}/cli.db"
    engine = db.create_db_engine(env_db)
    db.upgrade(engine)
    exchange_id = add_exchange(engine, "How do I rename a room?", "Open Rooms [1].", Surface.WEB)
    with session_scope(engine) as session:
        session.add(
            QAPair(
                question="How do I rename a room?",
                answer="Open Rooms [1].",
                origin_exchange_id=exchange_id,
            )
        )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "SUPPORTBOT_DATABASE_URL": env_db,
            "SUPPORTBOT_DATA_DIR": str(tmp_path),
            "COLUMNS": "200",
        }
        return subprocess.run(
            [sys.executable, "-m", "supportbot", "pairs", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    listed = run("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["question"] == "How do I rename a room?"
    approved = run("approve", "1", "--by", "pat")
    assert approved.returncode == 0, approved.stderr
    assert "approved by pat" in approved.stdout
    missing = run("reject", "99")
    assert missing.returncode == 1
    assert "no pair 99" in missing.stderr


def test_the_loop_through_every_surface(sample_knowledge: Path, tmp_path: Path, embed) -> None:
    """Slack and web ratings → harvest → a lead decides on Slack, on the web and in the CLI
    → export: a valid dataset without the personal data people typed."""

    data = tmp_path / "data"
    shutil.copytree(sample_knowledge, data)
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{tmp_path}/loop.db",
        slack_lead_user_ids=["U0LEAD"],
        review_tokens={"pat": "tok-1-0123456789abcdef"},
        web_rate_limit_per_minute=1000,
    )
    with serve_slack_bot(settings) as bot:
        # Slack: a question with personal data, rated 👍 with the button.
        event = mention_event(
            "I'm Jane Doe (jane.doe@example.com): how do I factory reset the Nimbus Hub?"
        )
        bot.event(event)
        bot.fake.wait_for(
            lambda: all_exchanges(bot.engine) and all_exchanges(bot.engine)[0].reply_ts,
            what="the Slack answer",
        )
        slack_exchange = all_exchanges(bot.engine)[0]
        # Clicked under the answer, in its thread: clicks elsewhere are refused.
        answer_message = {
            "type": "message",
            "ts": slack_exchange.reply_ts,
            "thread_ts": event["ts"],
        }
        bot.interaction(
            block_action(ACTION_HELPFUL, str(slack_exchange.id), message=answer_message)
        )
        # Web: twelve questions rated 👍 (enough for a dataset), one 👎 with a correction.
        for topic in TOPICS:
            answer = httpx.post(
                f"{bot.url}/api/chat", json={"message": f"How do I {topic}?"}, timeout=30
            ).json()
            rating = {
                "conversation_id": answer["conversation_id"],
                "exchange_id": answer["exchange_id"],
            }
            httpx.post(f"{bot.url}/api/feedback", json={**rating, "rating": "up"}, timeout=30)
        bot.fake.wait_for(lambda: len(all_feedback(bot.engine)) == 13, what="ratings stored")

        # Without an LLM the sample answers are excerpts or abstentions, which harvest
        # rightly skips; mark them as the written answers a configured model gives.
        with bot.engine.begin() as connection:
            connection.execute(sa.update(Exchange).values(answer_mode="generated", abstained=False))
        report = harvest(bot.engine, embed)
        assert report.candidates == 13
        pairs = all_pairs(bot.engine)
        slack_pair = next(p for p in pairs if p.origin_exchange_id == slack_exchange.id)
        assert "jane.doe@example.com" not in slack_pair.question
        assert "Jane Doe" not in slack_pair.question

        # Slack App Home: the lead approves the Slack pair.
        click = block_action(APPROVE, str(slack_pair.id), user_id="U0LEAD")
        click.pop("channel")
        click.pop("message")
        bot.interaction(click)
        bot.fake.wait_for(
            lambda: one_pair(bot.engine, slack_pair.id).status == PairStatus.APPROVED, what="Slack"
        )
        # Web review: edit one, approve ten, reject one.
        auth = {"Authorization": "Bearer tok-1-0123456789abcdef"}
        web_ids = [p.id for p in pairs if p.id != slack_pair.id]
        edited = httpx.patch(
            f"{bot.url}/api/review/pairs/{web_ids[0]}",
            json={"answer": "Open Settings, then Sensors [1]."},
            headers=auth,
            timeout=30,
        )
        assert edited.status_code == 200
        approved = httpx.post(
            f"{bot.url}/api/review/decisions",
            json={"pair_ids": web_ids[:10], "status": "approved"},
            headers=auth,
            timeout=60,
        ).json()
        assert all(r["ok"] for r in approved)
        httpx.post(
            f"{bot.url}/api/review/decisions",
            json={"pair_ids": [web_ids[10]], "status": "rejected"},
            headers=auth,
            timeout=30,
        )
        # CLI: the operator approves the last one.
        decide(bot.engine, web_ids[11], PairStatus.APPROVED, "cli:ops")

        decided = {p.id: p for p in all_pairs(bot.engine)}
        assert decided[slack_pair.id].decided_by == "slack:U0LEAD"
        assert decided[web_ids[0]].edited_by == "web:pat"
        assert decided[web_ids[10]].status == PairStatus.REJECTED
        assert decided[web_ids[11]].decided_by == "cli:ops"

        result = export(bot.engine, data)
        assert result.problems == []
        assert result.dataset.train_count + result.dataset.eval_count == 12
        text = (
            Path(result.dataset.train_path).read_text() + Path(result.dataset.eval_path).read_text()
        )
        assert "jane.doe@example.com" not in text
        assert "Jane Doe" not in text
        assert "Open Settings, then Sensors [1]." in text
