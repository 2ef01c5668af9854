"""The import contracts cover the whole spine: a new spine module cannot slip past them."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_spine_module_is_forbidden_from_importing_the_cli() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (guard,) = [c for c in contracts if c.get("forbidden_modules") == ["supportbot.cli"]]
    spine = {
        f"supportbot.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "supportbot").iterdir()
        if (path.suffix == ".py" or (path / "__init__.py").exists())
        and path.name not in {"__init__.py", "__main__.py", "cli"}
    }
    assert spine <= set(guard["source_modules"]), sorted(spine - set(guard["source_modules"]))
