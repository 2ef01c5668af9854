"""Waiting for something a server, a process or a fake does on its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 30.0,
    what: str = "condition",
    poll_s: float = 0.02,
) -> Any:
    """The predicate's first truthy value, polled until `timeout` (then AssertionError):
    a positive signal, never a fixed sleep standing in for one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
