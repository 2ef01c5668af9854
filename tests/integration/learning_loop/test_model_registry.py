"""The model registry on SQLite and PostgreSQL: promote, answer with it, roll back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from supportbot import db
from supportbot.models import ModelChange
from supportbot.registry import (
    RegistryError,
    active_model_id,
    list_models,
    promote,
    register,
    rollback,
)


def test_promote_and_rollback_are_recorded_and_restore_the_previous_model(
    engine: sa.Engine,
) -> None:
    db.upgrade(engine)
    assert active_model_id(engine, "base") == "base"
    register(engine, "support-v1", "local", eval_scores={"similarity": 0.71})
    register(engine, "support-v2", "local")
    with pytest.raises(RegistryError, match="already registered"):
        register(engine, "support-v1", "local")

    promote(engine, "support-v1", "slack:U0LEAD", reason="beat base by 0.05")
    assert active_model_id(engine, "base") == "support-v1"
    change = promote(engine, "support-v2", "cli:ops")
    assert change.previous_model_id == "support-v1"
    assert [m.model_id for m in list_models(engine) if m.is_active] == ["support-v2"]

    rollback(engine, "cli:ops", reason="complaints")
    assert active_model_id(engine, "base") == "support-v1"
    with pytest.raises(RegistryError, match="nothing to roll back"):
        rollback(engine, "cli:ops")  # the live model came from a rollback, not a promotion
    with pytest.raises(RegistryError, match="no registered model"):
        promote(engine, "ghost", "cli:ops")
    assert active_model_id(engine, "base") == "support-v1", "a failed change changes nothing"

    with Session(engine) as session:
        history = session.exec(select(ModelChange).order_by(ModelChange.id)).all()
    assert [(c.action, c.model_id, c.previous_model_id, c.changed_by) for c in history] == [
        ("promote", "support-v1", None, "slack:U0LEAD"),
        ("promote", "support-v2", "support-v1", "cli:ops"),
        ("rollback", "support-v1", "support-v2", "cli:ops"),
    ]


def test_rolling_back_the_first_promotion_returns_to_the_base_model(engine: sa.Engine) -> None:
    db.upgrade(engine)
    register(engine, "support-v1", "openai")
    promote(engine, "support-v1", "cli:ops")
    rollback(engine, "cli:ops")
    assert active_model_id(engine, "gpt-base") == "gpt-base"


def test_models_cli(tmp_path: Path) -> None:
    env = {**os.environ, "SUPPORTBOT_DATABASE_URL": f"sqlite:///{tmp_path}/m.db", "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supportbot", "models", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    assert run("register", "support-v1", "--backend", "local").returncode == 0
    promoted = run("promote", "support-v1", "--by", "pat")
    assert "support-v1 is live (was the base model)" in promoted.stdout
    listed = json.loads(run("list", "--json").stdout)
    assert listed["models"][0]["active"] is True
    assert "Rolled back to the base model" in run("rollback").stdout
    failed = run("promote", "ghost")
    assert failed.returncode == 1
    assert "no registered model" in failed.stderr
