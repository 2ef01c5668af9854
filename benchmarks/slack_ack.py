"""Slack ack latency under load, exactly-once answers, junk and a restart.

Serves the real app (FastAPI + Bolt, uvicorn on loopback) against the local fake of
Slack's Web API used by the tests, makes every answer take 5 seconds, then sends 50
signed `app_mention` events at once and times each HTTP round trip (the ack Slack
waits for; it gives up after 3 s). 3 s later, while those answers are still being
computed, it re-sends all 50 as Slack retries (`X-Slack-Retry-Num: 1`). It then waits for the
answers and counts, per question, how many were posted.

Junk phase: 8 unsigned 25 MiB bodies (half with a Content-Length, half chunked) are
being sent while another 50 events arrive; their acks are timed again.

Restart phase: a server process (tests/support/served_process.py) gets 50 events,
is SIGKILLed while all 50 are in flight, and a new one starts on the same database;
Slack's retries of the 50 arrive at the new one. Every question must be answered,
none twice.

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
sys.path[:0] = [str(ROOT)]

import httpx  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

from benchmarks._common import machine_summary, write_results  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.settings import Settings  # noqa: E402
from tests.support.app_server import free_port  # noqa: E402
from tests.support.served_process import SIGNING_SECRET, ServedProcess, slow_answerer  # noqa: E402
from tests.support.slack_fake import fake_slack  # noqa: E402
from tests.support.slack_harness import envelope, mention_event, serve_app  # noqa: E402

JUNK_BODIES = 8
JUNK_BYTES = 25 * 1024 * 1024


async def send_junk(url: str, chunked: bool) -> int:
    """One unsigned 25 MiB body, written as fast as the server takes it; returns the
    status the server answered with (it should not wait for the whole body)."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {JUNK_BYTES}"
    writer.write(
        f"POST /slack/events HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\n{length}\r\n\r\n".encode()
    )
    block = b"x" * (256 * 1024)
    try:
        for _ in range(JUNK_BYTES // len(block)):
            writer.write(f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass  # refused before the end: what should happen
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        status = int(head.split(b" ", 2)[1])
    except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
        status = 0
    writer.close()
    return status


async def burst_under_junk(
    url: str, bodies: list[str], secret: str
) -> tuple[list[float], list[int]]:
    junk = [asyncio.create_task(send_junk(url, chunked=i % 2 == 1)) for i in range(JUNK_BODIES)]
    await asyncio.sleep(0.05)  # the junk is on the wire when the events arrive
    acks = await send_all(url, bodies, secret, retry=None)
    return acks, list(await asyncio.gather(*junk))


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


def restart_phase(fake_url: str, count: int, answer_s: float) -> dict[str, Any]:
    """50 questions in flight, SIGKILL, restart on the same database, Slack retries."""
    with tempfile.TemporaryDirectory() as scratch:
        database = f"sqlite:///{scratch}/restart.db"
        # The first server's answers never finish: every question is in flight at the kill.
        first = ServedProcess(database, f"{fake_url}/api/", free_port(), 600, 10, Path(scratch))
        events = [mention_event(f"restart-phase question {i}?") for i in range(count)]
        bodies = [json.dumps(envelope(e, event_id=f"EvRST{i:04d}")) for i, e in enumerate(events)]
        secret = SIGNING_SECRET
        asyncio.run(send_all(first.url, bodies, secret, retry=None))
        stamps = {e["ts"] for e in events}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every question has its 👀: all in flight
            calls = httpx.get(f"{fake_url}/_calls", timeout=10).json()
            working = {c["args"].get("timestamp") for c in calls if c["method"] == "reactions.add"}
            if stamps <= working:
                break
            time.sleep(0.1)
        in_flight_after_s = time.monotonic() - (deadline - 60)
        answered_before = sum(1 for e in events if answers_per_thread(fake_url).get(e["ts"]))
        first.kill()
        started = time.perf_counter()
        second = ServedProcess(
            database, f"{fake_url}/api/", free_port(), answer_s, 10, Path(scratch)
        )
        try:
            asyncio.run(send_all(second.url, bodies, secret, retry=1))  # Slack's retries
            deadline = time.monotonic() + 120 + count * answer_s
            while time.monotonic() < deadline:
                counts = answers_per_thread(fake_url)
                if all(counts.get(e["ts"]) for e in events):
                    break
                time.sleep(0.2)
            all_answered_s = time.perf_counter() - started
            time.sleep(2 * answer_s)  # room for any duplicate to show up
            counts = answers_per_thread(fake_url)
        finally:
            second.terminate()
    per_event = [counts.get(e["ts"], 0) for e in events]
    return {
        "restart_events": count,
        "in_flight_at_kill": count - answered_before,
        "all_in_flight_after_s": round(in_flight_after_s, 2),
        "lost_after_restart": sum(1 for n in per_event if n == 0),
        "restart_duplicate_answers": sum(max(0, n - 1) for n in per_event),
        "restart_all_answered_s": round(all_answered_s, 1),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def serve(answer_s: float, slack_api_url: str) -> None:
    """Child process: the app, until stdin closes."""
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch), database_url=f"sqlite:///{scratch}/bench.db")
        answerer = slow_answerer(answer_s)
        with serve_app(settings, slack_api_url, answerer) as (url, settings, _engine, _activity):
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
    parser.add_argument("--skip-restart", action="store_true", help="leave out the restart phase")
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

        junk_events = [mention_event(f"junk-phase question {i}?") for i in range(args.events)]
        junk_bodies = [
            json.dumps(envelope(e, event_id=f"EvJUNK{i:04d}")) for i, e in enumerate(junk_events)
        ]
        junk_acks, junk_statuses = asyncio.run(
            burst_under_junk(server["url"], junk_bodies, server["secret"])
        )
        restart = {} if args.skip_restart else restart_phase(api["url"], args.events, args.answer_s)
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
        # Both phases: the burst with Slack's retries, and the restart.
        "duplicate_answers": sum(max(0, n - 1) for n in per_event)
        + restart.get("restart_duplicate_answers", 0),
        "missing_answers": sum(1 for n in per_event if n == 0),
        "all_answered_s": round(all_answered_s, 1),
        "ack_p99_ms_under_junk": round(percentile(junk_acks, 0.99), 1),
        "ack_max_ms_under_junk": round(max(junk_acks), 1),
        "junk_bodies": JUNK_BODIES,
        "junk_mib_each": JUNK_BYTES // (1024 * 1024),
        "junk_statuses": sorted(set(junk_statuses)),
        **restart,
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
| ack p99, {JUNK_BODIES} unsigned 25 MiB bodies arriving | {figures["ack_p99_ms_under_junk"]} ms |
| statuses the junk got | {figures["junk_statuses"]} |
| restart: questions in flight at SIGKILL | {figures.get("in_flight_at_kill", "n/a")} |
| restart: lost after restart | {figures.get("lost_after_restart", "n/a")} |
| restart: duplicate answers | {figures.get("restart_duplicate_answers", "n/a")} |
| restart: all answered after the restart | {figures.get("restart_all_answered_s", "n/a")} s |
"""
    print(json.dumps(figures, indent=2))
    write_results("slack_ack", figures, markdown)


if __name__ == "__main__":
    main()
