"""The `openai` training backend: OpenAI's supervised fine-tuning API (files + jobs).

`start` uploads a dataset's files and creates a job; `follow` reads the job's status and
events and, when it succeeds, registers the fine-tuned model (inactive: the evaluation
gate decides whether it goes live). Every step is mirrored on a `TrainingRun` row, so a
restart can pick a run up again with `follow` (the job lives on OpenAI's side).
"""

from __future__ import annotations

from pathlib import Path

import openai
import structlog
from sqlalchemy.engine import Engine

from finetune_data.runs import open_run, update_run
from supportbot.models import Dataset, RunStatus, TrainingRun
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

BACKEND = "openai"
RUNNING_STATES = {"validating_files", "queued", "running"}
NOT_ALLOWED = (
    "This OpenAI account cannot create fine-tuning jobs ({detail}). OpenAI's self-serve "
    "fine-tuning is closing to new jobs; use the local backend (LoRA on an open-weights "
    "model) instead."
)


class OpenAITrainer:
    def __init__(self, settings: Settings, client: openai.OpenAI | None = None) -> None:
        self.settings = settings
        self.client = client or openai.OpenAI(
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            base_url=settings.llm_base_url,
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )

    def start(self, engine: Engine, dataset: Dataset, base_model: str) -> TrainingRun:
        run = open_run(engine, BACKEND, base_model, dataset.id)
        try:
            training = self._upload(Path(dataset.train_path))
            validation = self._upload(Path(dataset.eval_path)) if dataset.eval_count else None
            job = self.client.fine_tuning.jobs.create(
                model=base_model,
                training_file=training,
                validation_file=validation,
                suffix="supportbot",
            )
        except (openai.PermissionDeniedError, openai.NotFoundError) as error:
            return update_run(
                engine, run.id, RunStatus.FAILED, error=NOT_ALLOWED.format(detail=_detail(error))
            )
        except openai.BadRequestError as error:
            return update_run(
                engine, run.id, RunStatus.FAILED, error=f"OpenAI refused the job: {_detail(error)}"
            )
        except openai.OpenAIError as error:
            return update_run(
                engine, run.id, RunStatus.FAILED, error=f"{type(error).__name__}: {error}"
            )
        stored = update_run(
            engine,
            run.id,
            RunStatus.RUNNING,
            metrics={"openai_status": job.status},
            external_id=job.id,
        )
        log.info("training.started", backend=BACKEND, job=job.id, run=run.id)
        return stored

    def follow(self, engine: Engine, run: TrainingRun) -> TrainingRun:
        """Update a running job's row; registers the model when the job succeeded."""
        if run.external_id is None or run.status != RunStatus.RUNNING:
            return run
        try:
            job = self.client.fine_tuning.jobs.retrieve(run.external_id)
            events = self.client.fine_tuning.jobs.list_events(run.external_id, limit=20)
        except openai.OpenAIError as error:  # try again next time; the job is remote
            log.warning("training.follow_failed", run=run.id, error=type(error).__name__)
            return run
        metrics = {
            "openai_status": job.status,
            "trained_tokens": job.trained_tokens,
            "events": [event.message for event in reversed(list(events.data))],
        }
        if job.status in RUNNING_STATES:
            return update_run(engine, run.id, RunStatus.RUNNING, metrics=metrics)
        if job.status == "succeeded" and job.fine_tuned_model:
            metrics["model_id"] = job.fine_tuned_model
            return update_run(
                engine,
                run.id,
                RunStatus.SUCCEEDED,
                metrics=metrics,
                model=(job.fine_tuned_model, BACKEND),
            )
        reason = job.error.message if job.error and job.error.message else job.status
        status = RunStatus.CANCELLED if job.status == "cancelled" else RunStatus.FAILED
        return update_run(engine, run.id, status, metrics=metrics, error=reason)

    def _upload(self, path: Path) -> str:
        with path.open("rb") as handle:
            return self.client.files.create(file=handle, purpose="fine-tune").id


def _detail(error: openai.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    message = body.get("message") or (body.get("error") or {}).get("message")
    return str(message or error.message)
