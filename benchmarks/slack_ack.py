"""Slack ack latency under load, and exactly-once answers.

Serves the real app (FastAPI + Bolt, uvicorn on loopback) against the local fake of
Slack's Web API used by the tests, makes every answer take 5 seconds, then sends 50
signed `app_mention` events at once and times each HTTP round trip (the ack Slack
waits for; it gives up after 3 s). 3 s later, while those answers are still being
computed, it re-sends all 50 as Slack retries (`X-Slack-Retry-Num: 1`). It then waits for the
answers and counts, per question, how many were posted.

    .venv/bin/python benchmarks/slack_ack.py [--events 50] [--answer-s 5]

The app and the fake Slack API run in child processes of their own; this process plays
Slack's event delivery and times the round trips. All three share the machine's cores.
Results: benchmarks/results/slack_ack.*
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration")]

import httpx  # noqa: E402
from slack_fake import fake_slack  # noqa: E402
from slack_harness import envelope, mention_event, serve_app  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

from benchmarks._common import machine_summary, write_results  # noqa: E402
from knowledge.answering import Answer, Citation, Turn  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.settings import Settings  # noqa: E402


def slow_answerer(seconds: float):
    """Stands in for the pipeline: a grounded answer that takes `seconds` to compute."""

    def answer(question: str, *, history: list[Turn], filters: Any, on_token: Any) -> Answer:
        time.sleep(seconds)
        citation = Citation(
            1, "Manual", "Reset", "https://docs.example/reset", None, "manual", "m", 0.9, "…"
        )
        return Answer("Hold Reset for 10 seconds [1].", [citation], "excerpts", question, question)

    return answer


async def send_all(url: str, bodies: list[str], secret: str, retry: int | None) -> list[float]:
    """Send every body at once; returns each request's round trip in ms.

    Connections are opened and requests signed and encoded before the clock starts,
    and written as raw HTTP/1.1, so the load generator adds microseconds, not the
    milliseconds an HTTP client library spends per request on a busy 2-core machine.
    """
    address = urlsplit(url)
    verifier = SignatureVerifier(secret)
    timestamp = str(int(time.time()))

    def encode(body: str) -> bytes:
        headers = {
            "Host": address.netloc,
            "Content-Type": "application/json",
            "Content-Length": str(len(body.encode())),
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body),
        }
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"POST /slack/events HTTP/1.1\r\n{head}\r\n{body}".encode()

    requests = [encode(body) for body in bodies]
    connections = [await asyncio.open_connection(address.hostname, address.port) for _ in requests]

    async def send(
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], raw: bytes
    ) -> float:
        reader, writer = connection
        started = time.perf_counter()
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        elapsed = (time.perf_counter() - started) * 1000
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {head[:200]!r}")
        writer.close()
        return elapsed

    return list(
        await asyncio.gather(*(send(c, r) for c, r in zip(connections, requests, strict=True)))
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def serve(answer_s: float, slack_api_url: str) -> None:
    """Child process: the app, until stdin closes."""
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch), database_url=f"sqlite:///{scratch}/bench.db")
        answerer = slow_answerer(answer_s)
        with serve_app(settings, slack_api_url, answerer) as (url, settings, _engine):
            ready = {
                "url": url,
                "secret": settings.slack_signing_secret.get_secret_value(),
                "workers": settings.slack_answer_workers,
            }
            print(json.dumps(ready), flush=True)
            sys.stdin.read()


def fake() -> None:
    """Child process: the fake Slack Web API, until stdin closes (Slack's servers are
    not on our machine; in-process it would compete with the app for the GIL)."""
    with fake_slack() as api:
        print(json.dumps({"url": api.base_url}), flush=True)
        sys.stdin.read()


def child(*arguments: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, __file__, *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def answers_per_thread(fake_url: str) -> dict[str, int]:
    calls = httpx.get(f"{fake_url}/_calls", timeout=10).json()
    counts: dict[str, int] = {}
    for call in calls:
        if call["method"] in ("chat.postMessage", "chat.startStream"):
            thread = call["args"].get("thread_ts")
            counts[thread] = counts.get(thread, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--answer-s", type=float, default=5.0)
    parser.add_argument("--serve", metavar="SLACK_API_URL", help=argparse.SUPPRESS)
    parser.add_argument("--fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.answer_s, args.serve)
        return
    if args.fake:
        fake()
        return

    # The app, the fake Slack API and this process (playing Slack's event delivery)
    # each run in their own process, as they would in production.
    fake_process, api = child("--fake")
    app_process, server = child("--serve", f"{api['url']}/api/", "--answer-s", str(args.answer_s))
    try:
        events = [mention_event(f"question number {i}?") for i in range(args.events)]
        bodies = [json.dumps(envelope(e, event_id=f"EvBENCH{i:04d}")) for i, e in enumerate(events)]
        warm_up = [json.dumps(envelope(mention_event("warm-up question?")))]
        asyncio.run(send_all(server["url"], warm_up, server["secret"], retry=None))
        time.sleep(1)
        started = time.perf_counter()
        acks = asyncio.run(send_all(server["url"], bodies, server["secret"], retry=None))
        time.sleep(3)  # Slack retries an event it got no ack for within 3 seconds
        retries = asyncio.run(send_all(server["url"], bodies, server["secret"], retry=1))
        waves = -(-args.events // server["workers"])
        deadline = time.monotonic() + waves * args.answer_s + 60
        while time.monotonic() < deadline:
            counts = answers_per_thread(api["url"])
            if all(counts.get(e["ts"]) for e in events):
                break
            time.sleep(0.2)
        all_answered_s = time.perf_counter() - started
        time.sleep(2 * args.answer_s)  # room for any duplicate to show up
        counts = answers_per_thread(api["url"])
        per_event = [counts.get(e["ts"], 0) for e in events]
    finally:
        for process in (app_process, fake_process):
            process.communicate(input="", timeout=60)
    workers = server["workers"]

    figures = {
        "events": args.events,
        "answer_s": args.answer_s,
        "answer_workers": workers,
        "ack_p50_ms": round(statistics.median(acks), 1),
        "ack_p99_ms": round(percentile(acks, 0.99), 1),
        "ack_max_ms": round(max(acks), 1),
        "retry_ack_p99_ms": round(percentile(retries, 0.99), 1),
        "duplicate_answers": sum(max(0, n - 1) for n in per_event),
        "missing_answers": sum(1 for n in per_event if n == 0),
        "all_answered_s": round(all_answered_s, 1),
    }
    markdown = f"""# Slack ack latency

{args.events} signed `app_mention` events sent at once to the real app (FastAPI + Bolt
AsyncApp under uvicorn) while every answer takes {args.answer_s:g} s on
{workers} answer workers; 3 s later the same {args.events} again as Slack retries.
The app, the fake Slack API and the sender run in separate processes; requests are
pre-signed and written as raw HTTP, so the figures are the server's.
Goal: p99 ≤ 50 ms, every event answered exactly once.

Machine: {machine_summary()}

| figure | value |
|---|---|
| ack p50 | {figures["ack_p50_ms"]} ms |
| ack p99 | {figures["ack_p99_ms"]} ms |
| ack max | {figures["ack_max_ms"]} ms |
| retry ack p99 | {figures["retry_ack_p99_ms"]} ms |
| duplicate answers | {figures["duplicate_answers"]} |
| missing answers | {figures["missing_answers"]} |
| all answered after | {figures["all_answered_s"]} s |
"""
    print(json.dumps(figures, indent=2))
    write_results("slack_ack", figures, markdown)


if __name__ == "__main__":
    main()
