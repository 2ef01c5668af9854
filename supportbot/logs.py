"""Structured logging for every process, with secrets scrubbed from every record.

structlog renders both our own events and the standard-library records of uvicorn,
Bolt, Alembic and friends, so one format (console or JSON) and one redaction step
apply to everything the process writes.
"""

from __future__ import annotations

import logging
import logging.config
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "**********"

# Credentials we recognise by shape, even if they are not in our settings
# (a token pasted into a question, a key in an error message from a library).
SECRET_PATTERNS = re.compile(
    r"xox[abeoprs]-[A-Za-z0-9-]{8,}"  # Slack bot/user/config tokens
    r"|xapp-[A-Za-z0-9-]{8,}"  # Slack app-level tokens
    r"|sk-[A-Za-z0-9_-]{16,}"  # OpenAI-style API keys
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/-]{16,}=*"  # HTTP bearer credentials
)


class SecretRedactor:
    """A structlog processor that masks known secret values and secret-shaped strings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return SECRET_PATTERNS.sub(REDACTED, text)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {key: self._scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set):
            return type(value)(self._scrub(item) for item in value)
        if isinstance(value, BaseException):
            return self.redact(str(value))
        return value

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        return {key: self._scrub(value) for key, value in event_dict.items()}


def _drop_color_message(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    # uvicorn adds an ANSI-coloured duplicate of its message as an "extra".
    event_dict.pop("color_message", None)
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
    ]


def configure_logging(
    level: str = "INFO",
    fmt: str = "console",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Route structlog and standard logging to one handler on `stream` (stderr)."""
    redactor = SecretRedactor(secrets)
    shared = _shared_processors()
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text before redaction, so their messages are scrubbed too.
            structlog.processors.format_exc_info,
            redactor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Some libraries set their own logger to DEBUG when imported (bm25s does, after this
    # runs); the handler's level keeps the configured floor for everyone.
    handler.setLevel(level)
    # Alembic narrates every step and Haystack every component run at INFO; we report
    # outcomes ourselves, so they speak only at WARNING and above unless debugging.
    quiet_level = max(logging.getLevelName(level), logging.WARNING)
    # APScheduler logs every job start and finish; jobs log their own outcome.
    chatty_loggers = (
        "alembic",
        "haystack",
        "sentence_transformers",
        "httpx",
        "bm25s",
        "apscheduler",
        "presidio-analyzer",  # its device and every recognizer it loads
    )
    for chatty in chatty_loggers:
        logging.getLogger(chatty).setLevel(quiet_level)
    # uvicorn installs its own handlers; make its loggers propagate to ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
