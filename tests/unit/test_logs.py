import io
import json
import logging

import pytest
import structlog

from supportbot.logs import REDACTED, SecretRedactor, configure_logging, get_logger

TOKEN = "xoxb-2222-3333-zyxwvutsrqpo"
CUSTOM_SECRET = "correct horse battery staple"


@pytest.fixture
def json_log() -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level="DEBUG", fmt="json", secrets=[CUSTOM_SECRET], stream=stream)
    yield stream
    structlog.contextvars.clear_contextvars()
    configure_logging(level="WARNING")


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize(
    "secret",
    [
        "xoxb-123456789012-abcdefghijkl",
        "xoxp-1-2-3-abcdefabcdef",
        "xapp-1-A0123456789-abcdef",
        "sk-proj-abcdefghijklmnopqrstuv",
        "Bearer abcdefghijklmnopqrstuvwxyz0123",
    ],
)
def test_secret_shaped_strings_are_masked(secret: str) -> None:
    text = SecretRedactor().redact(f"calling Slack with {secret} now")
    assert secret not in text
    assert REDACTED in text


def test_ordinary_text_is_left_alone() -> None:
    text = "skip the task-list; xoxo from the team"
    assert SecretRedactor().redact(text) == text


def test_json_records_carry_context_and_never_secrets(json_log: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-42")
    get_logger("test").info("slack.call", token=TOKEN, note=f"the password is {CUSTOM_SECRET}")
    [record] = records(json_log)
    assert record["event"] == "slack.call"
    assert record["request_id"] == "req-42"
    assert record["level"] == "info"
    assert TOKEN not in json_log.getvalue()
    assert CUSTOM_SECRET not in json_log.getvalue()
    assert record["token"] == REDACTED


def test_stdlib_records_and_tracebacks_are_scrubbed(json_log: io.StringIO) -> None:
    logging.getLogger("slack_bolt.App").warning("auth failed for %s", TOKEN)
    try:
        raise RuntimeError(f"upstream said: invalid key {CUSTOM_SECRET}")
    except RuntimeError:
        get_logger("test").exception("llm.failed")
    output = json_log.getvalue()
    assert TOKEN not in output
    assert CUSTOM_SECRET not in output
    first, second = records(json_log)
    assert first["logger"] == "slack_bolt.App"
    assert "RuntimeError" in second["exception"]


def test_console_format_is_readable_and_scrubbed() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", fmt="console", secrets=[CUSTOM_SECRET], stream=stream)
    try:
        get_logger("test").info("hello", secret=CUSTOM_SECRET)
        get_logger("test").debug("hidden below INFO")
    finally:
        configure_logging(level="WARNING")
    output = stream.getvalue()
    assert "hello" in output
    assert CUSTOM_SECRET not in output
    assert "hidden below INFO" not in output
