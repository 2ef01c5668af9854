"""The `openai` training backend against a local server with OpenAI's documented shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from finetune_data.openai_backend import OpenAITrainer
from finetune_data.training import train
from supportbot import db
from supportbot.db import session_scope
from supportbot.models import Dataset, PairStatus, QAPair, RunStatus
from supportbot.registry import active_model_id, list_models
from supportbot.settings import Settings
from tests.support.openai_finetune_fake import FINE_TUNED, FakeFineTuning, fake_fine_tuning

EXAMPLE = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}


@pytest.fixture
def fake() -> Iterator[FakeFineTuning]:
    with fake_fine_tuning() as server:
        yield server


@pytest.fixture
def setup(fake: FakeFineTuning, tmp_path: Path):
    engine = db.create_db_engine(f"sqlite:///{tmp_path}/t.db")
    db.upgrade(engine)
    train, valid = tmp_path / "train.jsonl", tmp_path / "validation.jsonl"
    train.write_text((json.dumps(EXAMPLE) + "\n") * 10)
    valid.write_text(json.dumps(EXAMPLE) + "\n")
    with session_scope(engine) as session:
        dataset = Dataset(
            version="v1", train_path=str(train), eval_path=str(valid), train_count=10, eval_count=1
        )
        session.add(dataset)
        session.flush()
        session.expunge(dataset)
    settings = Settings(
        llm_base_url=fake.base_url, llm_api_key="sk-test-000000000000000000", llm_max_retries=0
    )
    return engine, dataset, OpenAITrainer(settings)


def test_a_job_is_created_followed_and_its_model_registered(setup, fake: FakeFineTuning) -> None:
    engine, dataset, trainer = setup
    run = trainer.start(engine, dataset, "gpt-4o-mini-2024-07-18")
    assert run.status == RunStatus.RUNNING
    assert run.external_id == "ftjob-abc123"
    assert len(fake.uploads) == 2
    assert b'"assistant"' in fake.uploads[0]["body"], "the dataset file itself is uploaded"
    [request] = fake.created
    assert request["training_file"] == "file-1"
    assert request["validation_file"] == "file-2"
    assert request["model"] == "gpt-4o-mini-2024-07-18"

    run = trainer.follow(engine, run)
    assert run.status == RunStatus.RUNNING
    run = trainer.follow(engine, run)
    assert run.status == RunStatus.SUCCEEDED
    assert run.finished_at is not None
    assert run.metrics["model_id"] == FINE_TUNED
    assert "Step 100/100: training loss=0.21" in run.metrics["events"]
    [model] = list_models(engine)
    assert (model.model_id, model.backend, model.training_run_id) == (FINE_TUNED, "openai", run.id)
    assert active_model_id(engine, "base") == "base", "the gate, not training, promotes"


def test_a_failed_job_is_recorded_with_openais_reason(setup, fake: FakeFineTuning) -> None:
    engine, dataset, trainer = setup
    fake.job_states = ["failed"]
    fake.failure = {
        "code": "invalid_training_file",
        "param": "training_file",
        "message": "The job failed due to an invalid training file.",
    }
    run = trainer.follow(engine, trainer.start(engine, dataset, "gpt-4o-mini-2024-07-18"))
    assert run.status == RunStatus.FAILED
    assert run.error == "The job failed due to an invalid training file."
    assert list_models(engine) == []


def test_an_account_that_cannot_fine_tune_gets_a_clear_message(setup, fake: FakeFineTuning) -> None:
    engine, dataset, trainer = setup
    fake.refuse_jobs = True
    run = trainer.start(engine, dataset, "gpt-4o-mini-2024-07-18")
    assert run.status == RunStatus.FAILED
    assert "cannot create fine-tuning jobs" in run.error
    assert "denied access to fine-tuning" in run.error
    assert "local backend" in run.error
    assert run.finished_at is not None


def test_supportbot_train_with_the_openai_backend_leaves_a_running_job_to_follow(
    fake: FakeFineTuning, tmp_path: Path
) -> None:

    engine = db.create_db_engine(f"sqlite:///{tmp_path}/t.db")
    db.upgrade(engine)
    with session_scope(engine) as session:
        for n in range(12):
            session.add(
                QAPair(
                    question=f"Question {n}?", answer=f"Answer {n} [1].", status=PairStatus.APPROVED
                )
            )
    settings = Settings(
        data_dir=tmp_path / "data",
        llm_base_url=fake.base_url,
        llm_api_key="sk-test-000000000000000000",
        llm_max_retries=0,
        train_backend="openai",
        train_base_model="gpt-4.1-mini-2025-04-14",
    )
    steps: list[str] = []
    outcome = train(settings, engine, embed=None, progress=steps.append, wait=False)  # type: ignore[arg-type]
    assert outcome.decision is None
    assert outcome.run.status == RunStatus.RUNNING
    assert outcome.run.external_id == "ftjob-abc123"
    assert fake.created[-1]["model"] == "gpt-4.1-mini-2025-04-14"
    assert any("job ftjob-abc123 started" in s for s in steps)
