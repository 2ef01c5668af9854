"""The README's quick start is the contract CI holds us to."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    assert block, "the Quick start has a bash block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_exactly_two_commands_that_exist() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    for command in commands:
        program, script = command.split()[:2]
        assert program == "bash"
        assert (ROOT / script).is_file()


def test_ci_runs_the_readme_test_command() -> None:
    test_command = quick_start_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("bash ")]
    assert ci_commands == [test_command]
