"""compose.yaml and the Dockerfile are checked against the CLI and the settings.

Docker itself cannot run here, so these tests hold the files to what the code
actually offers: every command a service runs exists, every variable it sets is a
real setting, and the image runs unprivileged.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml

from supportbot.cli import app
from supportbot.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def cli_command_exists(args: list[str]) -> bool:
    command = typer.main.get_command(app)
    for word in args:
        # The root loads a command's module when asked for it by name.
        found = command.get_command(None, word) if hasattr(command, "get_command") else None
        if found is None:
            return False
        command = found
    return True


def our_services(compose: dict) -> dict[str, dict]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image", "").startswith("supportbot")
    }


def test_stack_has_bot_scheduler_postgres_and_weaviate(compose: dict) -> None:
    assert {"bot", "scheduler", "postgres", "weaviate"} <= set(compose["services"])
    assert {"bot", "scheduler"} <= set(our_services(compose))


def test_every_service_command_exists_in_the_cli(compose: dict) -> None:
    for name, service in our_services(compose).items():
        assert cli_command_exists(service["command"]), f"{name}: {service['command']}"


def test_cli_check_rejects_unknown_commands() -> None:
    assert not cli_command_exists(["serv"])
    assert not cli_command_exists(["db", "migrate"])


def test_every_supportbot_variable_is_a_real_setting(compose: dict) -> None:
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    for name, service in our_services(compose).items():
        variables = {v for v in service["environment"] if v.startswith(ENV_PREFIX)}
        assert variables <= fields, f"{name}: unknown {variables - fields}"


def test_app_services_wait_for_migrations_and_use_postgres(compose: dict) -> None:
    for name in ("bot", "scheduler"):
        service = compose["services"][name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["environment"]["SUPPORTBOT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert service["environment"]["SUPPORTBOT_DOCUMENT_STORE"] == "weaviate"


def test_env_example_names_only_real_settings() -> None:
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*(SUPPORTBOT_[A-Z_]+)=", text, flags=re.MULTILINE))
    assert named
    assert named <= fields


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_dockerfile_runs_supportbot_serve_as_non_root() -> None:
    instructions = dockerfile_instructions()
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [arg for op, arg in final_stage if op == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    entrypoint = [arg for op, arg in final_stage if op == "ENTRYPOINT"][-1]
    cmd = [arg for op, arg in final_stage if op == "CMD"][-1]
    assert yaml.safe_load(entrypoint) == ["supportbot"]
    assert cli_command_exists(yaml.safe_load(cmd))


def test_dockerfile_installs_the_pinned_cpu_torch() -> None:
    runs = " ".join(arg for op, arg in dockerfile_instructions() if op == "RUN")
    assert "torch==2.13.0" in shlex.split(runs)
    assert "/whl/cpu" in runs


def test_the_scheduler_runs_by_default_as_one_replica(compose: dict) -> None:
    service = compose["services"]["scheduler"]
    assert service["command"] == ["scheduler"]
    assert "profiles" not in service, "the scheduler starts with `docker compose up`"
    assert service.get("deploy", {}).get("replicas", 1) == 1


def test_production_runs_the_weaviate_version_the_tests_run(compose: dict) -> None:
    script = (ROOT / "scripts" / "weaviate.sh").read_text(encoding="utf-8")
    tested = re.search(r'VERSION="\$\{WEAVIATE_VERSION:-([\d.]+)\}"', script)
    assert tested, "scripts/weaviate.sh pins a version"
    image = compose["services"]["weaviate"]["image"]
    assert image.endswith(f":{tested.group(1)}")
