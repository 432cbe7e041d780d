"""Instants and calendars shared by the SLA tests: UTC and Paris instants, the office and
round-the-clock calendars, all fixed (no real clock anywhere)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from serviceops.domain.incident import BusinessCalendar

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


# January 2025: Fri 10, Sat 11, Sun 12, Mon 13, Tue 14 ... Fri 17, Mon 20.
OFFICE = BusinessCalendar()  # UTC, Monday to Friday, 09:00-17:00
ALWAYS = BusinessCalendar(always_open=True)


PARIS_OFFICE = BusinessCalendar(timezone="Europe/Paris")
