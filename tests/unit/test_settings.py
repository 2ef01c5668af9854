from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from supportbot.settings import (
    DocumentStoreKind,
    EmbeddingBackend,
    LogFormat,
    Settings,
    value_sources,
)


def test_defaults_are_embedded_and_keyless(isolated_settings: Path) -> None:
    settings = Settings()
    assert settings.document_store is DocumentStoreKind.MEMORY
    assert settings.resolved_data_dir == isolated_settings / "data"
    assert settings.resolved_database_url == f"sqlite:///{isolated_settings / 'data/supportbot.db'}"
    assert settings.llm_configured is False
    assert settings.log_format is LogFormat.CONSOLE
    assert settings.secret_values() == []


def test_shipped_embedding_model_resolves_to_package_files() -> None:
    path = Path(Settings().resolved_embedding_model())
    assert path.is_dir()
    assert (path / "config.json").is_file()


def test_other_embedding_models_pass_through() -> None:
    settings = Settings(embedding_backend=EmbeddingBackend.OPENAI)
    assert settings.resolved_embedding_model() == "all-MiniLM-L6-v2"
    settings = Settings(embedding_model="/models/e5")
    assert settings.resolved_embedding_model() == "/models/e5"


def test_environment_uses_prefix_and_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTBOT_DOCUMENT_STORE", "weaviate")
    monkeypatch.setenv("SUPPORTBOT_PORT", "9001")
    monkeypatch.setenv("SUPPORTBOT_SLACK_LEAD_USER_IDS", "U01, U02,,U03 ")
    monkeypatch.setenv("SUPPORTBOT_LOG_LEVEL", "debug")
    monkeypatch.setenv("PORT", "1")  # unprefixed variables are not ours
    settings = Settings()
    assert settings.document_store is DocumentStoreKind.WEAVIATE
    assert settings.port == 9001
    assert settings.slack_lead_user_ids == ["U01", "U02", "U03"]
    assert settings.log_level == "DEBUG"


def test_dotenv_file_is_read_and_environment_wins(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_settings / ".env").write_text(
        "SUPPORTBOT_LLM_MODEL=from-dotenv\nSUPPORTBOT_PORT=7000\n", encoding="utf-8"
    )
    monkeypatch.setenv("SUPPORTBOT_PORT", "7100")
    settings = Settings()
    assert settings.llm_model == "from-dotenv"
    assert settings.port == 7100
    sources = value_sources(settings)
    assert sources["llm_model"] == ".env file"
    assert sources["port"] == "environment"
    assert sources["host"] == "default"


def test_secrets_are_secret_strings_and_hidden_from_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "xoxb-1111-2222-abcdefabcdef"
    monkeypatch.setenv("SUPPORTBOT_SLACK_BOT_TOKEN", token)
    monkeypatch.setenv("SUPPORTBOT_LLM_API_KEY", "sk-test-key-0123456789abcdef")
    settings = Settings()
    assert isinstance(settings.slack_bot_token, SecretStr)
    assert token not in repr(settings)
    assert token not in str(settings.model_dump())
    assert set(settings.secret_values()) == {token, "sk-test-key-0123456789abcdef"}
    assert settings.llm_configured is True


def test_database_url_overrides_the_sqlite_default() -> None:
    url = "postgresql+psycopg://bot:pw@db:5432/supportbot"
    assert Settings(database_url=url).resolved_database_url == url


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SUPPORTBOT_PORT", "not-a-port"),
        ("SUPPORTBOT_PORT", "70000"),
        ("SUPPORTBOT_DOCUMENT_STORE", "elasticsearch"),
        ("SUPPORTBOT_LOG_LEVEL", "LOUD"),
        ("SUPPORTBOT_LLM_TIMEOUT_S", "0"),
    ],
)
def test_invalid_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings()
