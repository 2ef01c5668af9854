"""Process start-up shared by every entry point (CLI commands, the web server, tests)."""

from __future__ import annotations

import os

from supportbot.logs import configure_logging
from supportbot.settings import Settings

# Defaults for libraries we embed (an explicit environment value always wins):
# - Haystack phones home with usage telemetry; a support bot that may run in
#   air-gapped networks opts out.
# - Haystack installs its own structlog handlers; ours already render every record
#   (with secret redaction), so Haystack uses plain logging and propagates to them.
# - Model-loading and conversion progress bars are noise in service logs and CLI output.
_QUIET_DEFAULTS = {
    "HAYSTACK_TELEMETRY_ENABLED": "False",
    "HAYSTACK_LOGGING_IGNORE_STRUCTLOG": "true",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TQDM_DISABLE": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def quiet_libraries() -> None:
    """Set the defaults above. Haystack and the Hugging Face hub read them when they are
    imported, so entry points call this before importing feature packages."""
    for name, value in _QUIET_DEFAULTS.items():
        os.environ.setdefault(name, value)


def bootstrap(settings: Settings) -> None:
    """Prepare the process: quiet defaults, data directory, logging with secret redaction."""
    quiet_libraries()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format.value,
        secrets=settings.secret_values(),
    )
