"""Curation that sees conflicts and keeps its history, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from finetune_data.conflicts import conflict_check
from finetune_data.curation import CurationError, decide, mark
from finetune_data.datasets import export
from finetune_data.history import history
from finetune_data.training import frozen_test_pairs
from supportbot import db
from supportbot.db import session_scope
from supportbot.models import PairStatus, QAPair


def _pair(engine: sa.Engine, question: str, answer: str, **fields) -> int:
    with session_scope(engine) as session:
        pair = QAPair(question=question, answer=answer, **fields)
        session.add(pair)
        session.flush()
        return pair.id or 0


def test_approving_a_contradicting_near_duplicate_asks_to_reconcile(
    engine: sa.Engine, embed
) -> None:
    db.upgrade(engine)
    conflicts = conflict_check(embed)
    yes = _pair(engine, "Does the hub support 5 GHz Wi-Fi?", "Yes, the hub supports 5 GHz [1].")
    no = _pair(engine, "Does the hub support 5GHz wifi?", "No, the hub does not support 5 GHz.")
    agreeing = _pair(engine, "Does the hub work with 5 GHz Wi-Fi?", "Yes, 5 GHz works [2].")
    other = _pair(engine, "How do I mount the hub?", "No, use the wall plate.")
    decide(engine, yes, PairStatus.APPROVED, "web:anna", conflicts=conflicts)

    with pytest.raises(CurationError, match=rf"contradicts approved pair {yes} .*says no"):
        decide(engine, no, PairStatus.APPROVED, "web:ben", conflicts=conflicts)
    decide(engine, agreeing, PairStatus.APPROVED, "web:ben", conflicts=conflicts)
    decide(engine, other, PairStatus.APPROVED, "web:ben", conflicts=conflicts)

    with pytest.raises(CurationError, match=rf"contradicts approved pair {agreeing} "):
        decide(engine, no, PairStatus.APPROVED, "web:ben", conflicts=conflicts, replaces=yes)
    decide(engine, agreeing, PairStatus.REJECTED, "web:ben")
    decide(engine, no, PairStatus.APPROVED, "web:ben", conflicts=conflicts, replaces=yes)
    with Session(engine) as session:
        assert session.get(QAPair, yes).status == PairStatus.REJECTED
        assert session.get(QAPair, no).status == PairStatus.APPROVED
    [replaced] = [e for e in history(engine, yes) if e.action == "rejected"]
    assert (replaced.actor, replaced.note) == ("web:ben", f"replaced by pair {no}")


def test_export_refuses_contradicting_pairs(engine: sa.Engine, embed, tmp_path: Path) -> None:
    db.upgrade(engine)
    approved = {"status": PairStatus.APPROVED}
    first = _pair(engine, "What power does the charger deliver?", "It delivers 120 W.", **approved)
    second = _pair(engine, "What power does the charger deliver?", "It delivers 3 W.", **approved)
    result = export(engine, tmp_path, embed)
    assert any(f"pairs {first} and {second} contradict" in p for p in result.problems)


def test_every_decision_is_kept_in_order(engine: sa.Engine) -> None:
    db.upgrade(engine)
    pair_id = _pair(engine, "How do I reset?", "Hold Reset.")
    decide(engine, pair_id, PairStatus.REJECTED, "slack:UANNA")
    decide(engine, pair_id, PairStatus.APPROVED, "web:ben", answer="Hold Reset 10 s. Mail a@b.io")
    mark(engine, pair_id, "cli:carl", test=True, critical=True)
    events = history(engine, pair_id)
    assert [(e.action, e.actor) for e in events] == [
        ("rejected", "slack:UANNA"),
        ("approved", "web:ben"),
        ("marked", "cli:carl"),
    ]
    assert events[1].changes == {"answer": ["Hold Reset.", "Hold Reset 10 s. Mail [email]"]}
    assert events[2].changes == {"test": [False, True], "critical": [False, True]}


def test_test_pairs_are_never_exported_and_form_the_gates_frozen_set(
    engine: sa.Engine, tmp_path: Path
) -> None:
    db.upgrade(engine)
    approved = {"status": PairStatus.APPROVED}
    trained = [_pair(engine, f"Question {n}?", f"Answer {n}.", **approved) for n in range(12)]
    held = _pair(engine, "Held out?", "Yes [1].", test=True, critical=True, **approved)
    _pair(engine, "Candidate test?", "Not approved.", test=True)
    result = export(engine, tmp_path)
    exported = {i for ids in result.dataset.split["pair_ids"].values() for i in ids}
    assert exported == set(trained)
    [frozen] = frozen_test_pairs(engine)
    assert (frozen.question, frozen.reference, frozen.critical) == ("Held out?", "Yes [1].", True)
    assert held not in exported
