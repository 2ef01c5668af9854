"""The real server in a process of its own, so tests can SIGKILL and SIGTERM it.

    python tests/support/served_process.py DATABASE_URL SLACK_API_URL PORT \
        [--answer-s 3] [--grace-s 10] [--data-dir DIR]

uvicorn runs in the main thread and handles signals as in production (`supportbot
serve`). Answers come from `slow_answerer`, a stand-in for the pipeline that takes
`--answer-s` seconds, so questions are reliably in flight when a signal lands.
`ServedProcess` starts one from a test and waits for /healthz.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":
    sys.path[:1] = [str(ROOT)]  # the repository, not this folder, so tests.support resolves

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from bot.server import create_app  # noqa: E402
from knowledge.answering import Answer, Citation, Turn  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.settings import Settings  # noqa: E402
from tests.support.slack_harness import BOT_TOKEN, SIGNING_SECRET  # noqa: E402

__all__ = ["SIGNING_SECRET", "ServedProcess", "slow_answerer"]


def slow_answerer(seconds: float) -> Any:
    """Stands in for the pipeline: a grounded answer that takes `seconds` to compute."""

    def answer(question: str, *, history: list[Turn], filters: Any, on_token: Any) -> Answer:
        time.sleep(seconds)
        citation = Citation(
            1, "Manual", "Reset", "https://docs.example/reset", None, "manual", "m", 0.9, "…"
        )
        return Answer("Hold Reset for 10 seconds [1].", [citation], "excerpts", question, question)

    return answer


class ServedProcess:
    """A server process on `port`; `kill()` is SIGKILL, `terminate()` SIGTERM."""

    def __init__(
        self,
        database_url: str,
        slack_api_url: str,
        port: int,
        answer_s: float = 3.0,
        grace_s: float = 10.0,
        data_dir: Path | None = None,
    ) -> None:
        self.url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            __file__,
            database_url,
            slack_api_url,
            str(port),
            "--answer-s",
            str(answer_s),
            "--grace-s",
            str(grace_s),
        ]
        if data_dir is not None:
            command += ["--data-dir", str(data_dir)]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HAYSTACK_TELEMETRY_ENABLED": "False"}
        self.process = subprocess.Popen(command, env=env)
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling a starting server, not standing in for an outcome
        raise RuntimeError("server did not become healthy")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> None:
        """SIGTERM, and wait for the exit (uvicorn re-raises the signal once it has shut
        down gracefully, so the status says "terminated" either way)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("slack_api_url")
    parser.add_argument("port", type=int)
    parser.add_argument("--answer-s", type=float, default=3.0)
    parser.add_argument("--grace-s", type=float, default=10.0)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()

    configure_logging("WARNING")
    values: dict[str, Any] = {
        "database_url": args.database_url,
        "slack_api_url": args.slack_api_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "shutdown_grace_s": args.grace_s,
        "delivery_heartbeat_s": 0.5,
        "delivery_stale_after_s": 2.0,
    }
    if args.data_dir is not None:
        values["data_dir"] = args.data_dir
    app = create_app(Settings(**values), answerer=slow_answerer(args.answer_s))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
