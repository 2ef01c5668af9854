#!/usr/bin/env bash
# Quick start: install supportbot, index the knowledge sources and run it on embedded
# defaults (SQLite and the in-process document store under ./data; no API keys needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
.venv/bin/supportbot db upgrade
# Index the knowledge sources (the shipped sample until you configure your own).
# Items that fail are reported; the bot still starts with everything else.
.venv/bin/supportbot sync || echo "supportbot: some knowledge items failed to sync (see above)" >&2
exec .venv/bin/supportbot serve "$@"
