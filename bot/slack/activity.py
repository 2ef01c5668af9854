"""How many Slack requests the bot has taken and not yet finished with.

Counted from the moment a listener takes a request until that listener has returned
(it answered, recorded, or decided to do nothing). A request no listener takes is
finished when its dispatch returns, before Slack gets the HTTP response. So once a
response is back and `in_flight` is 0, the bot is done with everything it was sent:
tests wait for that before asserting that nothing happened.
"""

from __future__ import annotations

import threading
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.listener.async_listener_completion_handler import (
    AsyncListenerCompletionHandler,
)
from slack_bolt.response import BoltResponse


class Activity:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self.received = 0
        self.finished = 0

    def arrived(self) -> None:
        with self._lock:
            self.received += 1

    def done(self) -> None:
        with self._condition:
            self.finished += 1
            self._condition.notify_all()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self.received - self.finished

    def wait_idle(self, timeout: float) -> bool:
        """Block (a test's thread, never the event loop) until nothing is in flight."""
        with self._condition:
            return self._condition.wait_for(lambda: self.received == self.finished, timeout=timeout)


class _Finished(AsyncListenerCompletionHandler):
    def __init__(self, activity: Activity) -> None:
        self.activity = activity

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        self.activity.done()


def track(app: AsyncApp, activity: Activity) -> None:
    """Count every request a listener takes until that listener has returned."""
    runner = app.listener_runner
    runner.listener_completion_handler = _Finished(activity)
    run = runner.run

    async def counted_run(**kwargs: Any) -> BoltResponse | None:
        activity.arrived()  # before the ack goes out, so no test can miss it
        return await run(**kwargs)

    runner.run = counted_run  # type: ignore[method-assign]
