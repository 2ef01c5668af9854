"""Privacy by construction: the seeded corpus through the whole loop, retention, and
forgetting one person on both databases and both document stores."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from haystack.document_stores.types import DocumentStore
from sqlmodel import Session, select

from finetune_data.curation import decide, store_indexer
from finetune_data.datasets import export
from finetune_data.harvest import harvest
from finetune_data.privacy import Selector, expire, forget
from knowledge.stores import PersistentInMemoryDocumentStore
from supportbot import db
from supportbot.db import session_scope
from supportbot.models import (
    Dataset,
    Exchange,
    Feedback,
    PairStatus,
    PrivacyAction,
    QAPair,
    Rating,
    Surface,
    TrainingRun,
    utcnow,
)
from supportbot.settings import Settings
from tests.support.cli import supportbot
from tests.support.privacy_corpus import CORPUS, run_loop
from tests.support.stores import STORES


def test_no_seeded_personal_string_reaches_a_dataset_a_verified_answer_a_log_or_another_customer(
    sample_knowledge: Path, tmp_path: Path, embed
) -> None:
    assert len({seed.value for seed in CORPUS}) >= 60
    data_dir = tmp_path / "data"
    shutil.copytree(sample_knowledge, data_dir)
    settings = Settings(data_dir=data_dir)
    engine = db.create_db_engine(settings.resolved_database_url)
    db.upgrade(engine)
    store = PersistentInMemoryDocumentStore(data_dir / "store.json")

    seen = run_loop(settings, engine, store, embed)

    assert seen.exported.count('"messages"') >= 20, "the loop produced a real dataset"
    assert seen.verified_answers.count("Q: ") >= 20, "and real verified answers"
    for where in ("exported", "verified_answers", "other_answers", "curated", "logs"):
        leaked = seen.leaks(where)
        assert not leaked, f"{where}: {[(s.kind, s.value) for s in leaked]}"
    # Placeholders are typed and readable where the data was.
    for placeholder in ("[email]", "[card number]", "[IBAN]", "[name]", "[secret]"):
        assert placeholder in seen.exported
    assert "Hold Reset 10 seconds" in seen.exported, "the text around the data is intact"


def test_approval_is_refused_while_personal_data_remains(engine: sa.Engine) -> None:
    db.upgrade(engine)
    with session_scope(engine) as session:
        # Stored before the scrubber knew this kind of data.
        pair = QAPair(question="Refund?", answer="It went to IBAN GB82 WEST 1234 5698 7654 32.")
        session.add(pair)
        session.flush()
        pair_id = pair.id or 0
    with pytest.raises(Exception, match=r"personal data in its answer \(\[IBAN\]\)") as refusal:
        decide(engine, pair_id, PairStatus.APPROVED, "cli:lead")
    assert "GB82" not in str(refusal.value), "the refusal names the kind, not the data"
    approved = decide(
        engine,
        pair_id,
        PairStatus.APPROVED,
        "cli:lead",
        answer="It went to IBAN GB82 WEST 1234 5698 7654 32, your bank.",
    )
    assert approved.answer == "It went to IBAN [IBAN], your bank.", "what a lead types is scrubbed"


def test_retention_scrubs_old_raw_text_in_place_and_keeps_new_text(engine: sa.Engine) -> None:
    db.upgrade(engine)
    old, new = (
        _exchange(engine, "U1", "c1", age_days=100),
        _exchange(engine, "U1", "c2", age_days=1),
    )
    counts = expire(engine, days=90)
    assert counts == {
        "exchanges_scrubbed": 1,
        "feedback_scrubbed": 1,
        "question_records_deleted": 0,
    }
    with Session(engine) as session:
        expired, kept = session.get(Exchange, old), session.get(Exchange, new)
        [expired_feedback] = session.exec(select(Feedback).where(Feedback.exchange_id == old)).all()
        [action] = session.exec(select(PrivacyAction)).all()
    assert "[email]" in expired.question
    assert "jane@example.org" not in expired.question
    assert expired.context[0]["text"] == "Call [phone]."
    assert "jane@example.org" not in (expired_feedback.correction or "")
    assert expired.scrubbed_at is not None
    assert "jane@example.org" in kept.question, "recent exchanges keep their raw text"
    assert (action.action, action.selector) == ("retention", "age")
    assert expire(engine, days=90) == {
        "exchanges_scrubbed": 0,
        "feedback_scrubbed": 0,
        "question_records_deleted": 0,
    }


@pytest.mark.parametrize("make_store", STORES)
def test_forget_a_slack_user_removes_their_data_everywhere_and_only_theirs(
    engine: sa.Engine, tmp_path: Path, make_store, embed
) -> None:
    db.upgrade(engine)
    settings = Settings(data_dir=tmp_path / "data")
    store = make_store(tmp_path)
    index = store_indexer(settings, store)
    theirs = [_exchange(engine, "U1", "thread-1", topic=t) for t in ("reset", "pair a sensor")]
    mine = _exchange(engine, "U2", "thread-2", topic="update the firmware")
    harvest(engine, embed)
    with Session(engine) as session:
        pairs = session.exec(select(QAPair)).all()
    for pair in pairs:
        decide(
            engine, pair.id or 0, PairStatus.APPROVED, "cli:lead", index, answer="Hold Reset 10 s."
        )
    exported = export(engine, settings.resolved_data_dir)
    trained = export(engine, settings.resolved_data_dir)
    with session_scope(engine) as session:
        session.add(TrainingRun(backend="local", base_model="m", dataset_id=trained.dataset.id))
    assert _verified_ids(store) == {f"verified-answer-{p.id}" for p in pairs}

    counts = forget(engine, Selector("slack-user", "U1"), "cli:dpo", index)

    assert counts["exchanges"] == 2
    assert counts["feedback"] == 2
    assert counts["pairs"] == 2
    assert counts["verified_answers"] == 2
    assert (counts["datasets"], counts["datasets_already_trained"]) == (1, 1)
    with Session(engine) as session:
        left = session.exec(select(Exchange)).all()
        left_pairs = session.exec(select(QAPair)).all()
        datasets = session.exec(select(Dataset)).all()
        [action] = session.exec(select(PrivacyAction)).all()
    assert [e.id for e in left] == [mine]
    assert [p.origin_exchange_id for p in left_pairs] == [mine]
    assert _verified_ids(store) == {f"verified-answer-{left_pairs[0].id}"}
    assert not exported.manifest_path.parent.exists(), "the untrained dataset is deleted"
    assert [d.id for d in datasets] == [trained.dataset.id]
    assert (action.action, action.selector, action.requested_by) == (
        "forget",
        "slack-user",
        "cli:dpo",
    )
    assert "U1" not in json.dumps(action.model_dump(mode="json")), "the record holds no id"
    assert set(theirs).isdisjoint(e.id for e in left)


def test_forget_by_conversation_or_email(engine: sa.Engine) -> None:
    db.upgrade(engine)
    first = _exchange(engine, "U1", "web-abc")
    second = _exchange(engine, "U3", "web-def", email="kim@example.net")
    third = _exchange(engine, "U4", "web-ghi")
    assert forget(engine, Selector("conversation", "web-abc"), "cli:dpo")["exchanges"] == 1
    assert forget(engine, Selector("email", "KIM@example.net"), "cli:dpo")["exchanges"] == 1
    with Session(engine) as session:
        assert [e.id for e in session.exec(select(Exchange)).all()] == [third]
    assert {first, second}.isdisjoint({third})
    with pytest.raises(ValueError, match="empty"):
        Selector("email", "  ")


def test_privacy_forget_on_the_command_line(isolated_settings: Path) -> None:

    assert supportbot("db", "upgrade").returncode == 0
    engine = db.create_db_engine(f"sqlite:///{isolated_settings / 'data' / 'supportbot.db'}")
    _exchange(engine, "U1", "t1")
    result = supportbot("privacy", "forget", "--slack-user", "U1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["exchanges"] == 1
    assert supportbot("privacy", "forget").returncode == 2, "a selector is required"
    log = supportbot("privacy", "log")
    assert "forget" in log.stdout
    assert "U1" not in log.stdout


def _exchange(
    engine: sa.Engine,
    user: str,
    conversation: str,
    topic: str = "reset",
    age_days: int = 0,
    email: str = "jane@example.org",
) -> int:
    created = utcnow() - timedelta(days=age_days)
    with session_scope(engine) as session:
        exchange = Exchange(
            surface=Surface.SLACK,
            user_id=user,
            conversation_id=conversation,
            question=f"How do I {topic} the hub? I'm {email}",
            answer="Hold Reset for 10 seconds [1].",
            context=[{"title": "Manual", "text": "Call +44 20 7946 0958."}],
            answer_mode="generated",
            created_at=created,
        )
        session.add(exchange)
        session.flush()
        session.add(
            Feedback(
                exchange_id=exchange.id or 0,
                user_id=user,
                rating=Rating.DOWN,
                correction=f"Hold it for 10 seconds. Mail {email}",
                created_at=created,
            )
        )
        return exchange.id or 0


def _verified_ids(store: DocumentStore) -> set[str]:
    documents = store.filter_documents(
        {"field": "meta.kind", "operator": "==", "value": "verified_answer"}
    )
    return {d.id for d in documents}
