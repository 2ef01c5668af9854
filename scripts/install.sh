#!/usr/bin/env bash
# Create .venv (if needed) and install supportbot into it, editable, with the extras given
# as arguments (e.g. `dev`). Safe to re-run: an up-to-date environment installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

python=""
for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    echo "supportbot needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $("$python" --version)"
    "$python" -m venv .venv
fi

extras=""
if [ "$#" -gt 0 ]; then
    extras="[$(IFS=,; echo "$*")]"
fi

echo "==> installing supportbot${extras} into .venv"
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is pinned in pyproject.toml; set PIP_EXTRA_INDEX_URL to PyTorch's CPU wheel index
# on machines where the default torch wheel would be a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet --editable ".${extras}"
