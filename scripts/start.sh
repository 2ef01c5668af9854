#!/usr/bin/env bash
# Quick start: install supportbot and run it on embedded defaults (SQLite and the
# in-process document store under ./data; no API keys needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
.venv/bin/supportbot db upgrade
exec .venv/bin/supportbot serve "$@"
