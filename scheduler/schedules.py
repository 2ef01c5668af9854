"""Schedule strings from settings and the sources file, as APScheduler triggers.

"every 30m" (units s, m, h, d) is an interval; five fields ("0 3 * * *") a crontab
line in the scheduler's time zone; "off" disables the job.
"""

from __future__ import annotations

import re
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_EVERY = re.compile(r"^every\s+(\d+(?:\.\d+)?)\s*([smhd])$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScheduleError(ValueError):
    """A schedule string that is neither an interval, a crontab line nor "off"."""


def parse(schedule: str, timezone: str = "UTC") -> BaseTrigger | None:
    """The trigger for `schedule`; None when it is "off"."""
    text = schedule.strip()
    if text.lower() == "off":
        return None
    match = _EVERY.match(text)
    if match:
        amount = float(match.group(1))
        if amount <= 0:
            raise ScheduleError(
                f"{schedule!r}: the interval must be positive (or give a crontab line)"
            )
        seconds = timedelta(**{_UNITS[match.group(2).lower()]: amount}).total_seconds()
        return IntervalTrigger(seconds=seconds, timezone=timezone)
    try:
        return CronTrigger.from_crontab(text, timezone=timezone)
    except ValueError as error:
        raise ScheduleError(
            f'{schedule!r} is not "every <n><s|m|h|d>", a crontab line or "off" ({error})'
        ) from error
