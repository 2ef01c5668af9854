"""A local stand-in for OpenAI's Files and Fine-tuning jobs APIs, with the documented
response shapes (https://platform.openai.com/docs/api-reference/fine-tuning).

`job_states` scripts what successive GETs of a job report; `refuse_jobs` makes job
creation answer like an account that may not fine-tune (HTTP 403).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.local_http import running

FINE_TUNED = "ft:gpt-4o-mini-2024-07-18:example-org:supportbot:AbC123"


@dataclass
class FakeFineTuning:
    base_url: str = ""
    uploads: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    job_states: list[str] = field(default_factory=lambda: ["running", "succeeded"])
    refuse_jobs: bool = False
    failure: dict[str, Any] | None = None  # the job's `error` when it fails

    def job(self, status: str) -> dict[str, Any]:
        request = self.created[-1]
        return {
            "object": "fine_tuning.job",
            "id": "ftjob-abc123",
            "model": request["model"],
            "created_at": 1721764800,
            "finished_at": 1721768400 if status in ("succeeded", "failed") else None,
            "fine_tuned_model": FINE_TUNED if status == "succeeded" else None,
            "organization_id": "org-123",
            "result_files": ["file-result"] if status == "succeeded" else [],
            "status": status,
            "validation_file": request.get("validation_file"),
            "training_file": request["training_file"],
            "hyperparameters": {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8},
            "trained_tokens": 5768 if status == "succeeded" else None,
            "error": self.failure if status == "failed" else None,
            "seed": 42,
            "method": {"type": "supervised"},
        }


@contextmanager
def fake_fine_tuning() -> Iterator[FakeFineTuning]:
    fake = FakeFineTuning()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/v1/files":
                file_id = f"file-{len(fake.uploads) + 1}"
                fake.uploads.append({"id": file_id, "body": raw})
                self._reply(
                    200,
                    {
                        "id": file_id,
                        "object": "file",
                        "bytes": len(raw),
                        "created_at": int(time.time()),
                        "filename": "train.jsonl",
                        "purpose": "fine-tune",
                        "status": "processed",
                    },
                )
            elif self.path == "/v1/fine_tuning/jobs":
                request = json.loads(raw)
                if fake.refuse_jobs:
                    self._reply(
                        403,
                        {
                            "error": {
                                "message": "You have been denied access to fine-tuning.",
                                "type": "invalid_request_error",
                                "param": None,
                                "code": None,
                            }
                        },
                    )
                    return
                fake.created.append(request)
                self._reply(200, fake.job("validating_files"))
            else:
                self._reply(
                    404, {"error": {"message": "not found", "type": "invalid_request_error"}}
                )

        def do_GET(self) -> None:
            if self.path.startswith("/v1/fine_tuning/jobs/ftjob-abc123/events"):
                self._reply(
                    200,
                    {
                        "object": "list",
                        "has_more": False,
                        "data": [
                            {
                                "object": "fine_tuning.job.event",
                                "id": "ftevent-2",
                                "created_at": 1721768000,
                                "level": "info",
                                "message": "Step 100/100: training loss=0.21",
                                "type": "metrics",
                                "data": {"step": 100, "train_loss": 0.21},
                            },
                            {
                                "object": "fine_tuning.job.event",
                                "id": "ftevent-1",
                                "created_at": 1721764900,
                                "level": "info",
                                "message": "Fine-tuning job started",
                                "type": "message",
                            },
                        ],
                    },
                )
            elif self.path.startswith("/v1/fine_tuning/jobs/ftjob-abc123"):
                state = fake.job_states.pop(0) if len(fake.job_states) > 1 else fake.job_states[0]
                self._reply(200, fake.job(state))
            else:
                self._reply(
                    404, {"error": {"message": "not found", "type": "invalid_request_error"}}
                )

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with running(server) as url:
        fake.base_url = f"{url}/v1"
        yield fake
