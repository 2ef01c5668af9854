"""Test-wide isolation: no developer settings leak in, nothing reaches a model hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"


@pytest.fixture(autouse=True)
def isolated_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Run each test in an empty directory with no SUPPORTBOT_* variables set.

    Settings read `.env` from the working directory and the data directory defaults to
    ./data, so an empty working directory keeps a developer's own setup out of tests.
    """
    for name in list(os.environ):
        if name.upper().startswith("SUPPORTBOT_"):
            monkeypatch.delenv(name)
    workdir = tmp_path_factory.mktemp("workdir")
    monkeypatch.chdir(workdir)
    return workdir
