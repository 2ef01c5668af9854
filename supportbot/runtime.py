"""Process start-up shared by every entry point (CLI commands, the web server, tests)."""

from __future__ import annotations

import os

from supportbot.logs import configure_logging
from supportbot.settings import Settings

# Haystack phones home with usage telemetry unless told not to; a support bot that
# may run in air-gapped networks opts out by default (an explicit env value wins).
_QUIET_DEFAULTS = {"HAYSTACK_TELEMETRY_ENABLED": "False"}


def bootstrap(settings: Settings) -> None:
    """Prepare the process: quiet defaults, data directory, logging with secret redaction."""
    for name, value in _QUIET_DEFAULTS.items():
        os.environ.setdefault(name, value)
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format.value,
        secrets=settings.secret_values(),
    )
