"""Schedule strings from settings and the sources file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.schedules import ScheduleError, parse


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("every 10s", 10), ("every 30m", 1800), ("EVERY 2h", 7200), ("every 1d", 86400)],
)
def test_intervals(text: str, seconds: int) -> None:
    trigger = parse(text)
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == timedelta(seconds=seconds)


def test_crontab_lines_run_in_the_configured_time_zone() -> None:
    trigger = parse("0 9 * * mon", "Europe/Paris")
    assert isinstance(trigger, CronTrigger)
    assert str(trigger.timezone) == "Europe/Paris"
    assert "day_of_week='mon'" in str(trigger)


def test_off_disables() -> None:
    assert parse(" off ") is None


@pytest.mark.parametrize("text", ["every", "every 0s", "daily", "61 * * * *", "every 5 weeks"])
def test_nonsense_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ScheduleError, match="crontab"):
        parse(text)
