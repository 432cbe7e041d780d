"""SLA clocks: due times on a business-hours calendar, paused while an incident is pending.

A clock stores its due and warning times as absolute instants, computed once when it starts
or resumes. The sweep then only compares instants (an indexed SQL filter), which is what lets
it look at 100,000 open incidents in well under a second.
"""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

WARNING_RATIO = 0.75


class BusinessCalendar(BaseModel):
    """When the SLA clock runs: working days and hours in one timezone, minus holidays."""

    timezone: str = Field("UTC", description="IANA timezone of the team, e.g. Europe/Paris.")
    workdays: frozenset[int] = Field(
        frozenset({0, 1, 2, 3, 4}), description="Working weekdays, Monday = 0."
    )
    opens: time = Field(time(9), description="Local opening time.")
    closes: time = Field(time(17), description="Local closing time.")
    holidays: frozenset[date] = Field(frozenset(), description="Dates with no service.")
    always_open: bool = Field(False, description="24x7: every instant counts.")

    @field_validator("workdays")
    @classmethod
    def _some_workday(cls, value: frozenset[int]) -> frozenset[int]:
        if not value or not value <= set(range(7)):
            raise ValueError("workdays must be a non-empty set of weekdays 0..6")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        # ZoneInfoNotFoundError is a KeyError, which pydantic would not turn into a
        # ValidationError: a typo in a block would then crash instead of being reported.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name") from None
        return value

    @model_validator(mode="after")
    def _opens_before_closes(self) -> "BusinessCalendar":
        # Otherwise no day has open hours and add() would search for one forever.
        if not self.always_open and self.opens >= self.closes:
            raise ValueError("opens must be before closes (overnight hours are not supported)")
        return self

    def is_open(self, instant: datetime) -> bool:
        """Whether `instant` falls in business hours."""
        if self.always_open:
            return True
        window = self._window(self._local_date(instant))
        return window is not None and window[0] <= instant < window[1]

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The open hours of a local date as UTC instants, or None when closed that day.

        UTC, so that arithmetic on them is real elapsed time: Python adds and subtracts
        datetimes sharing one ZoneInfo as wall-clock times, which is wrong across a DST change.
        """
        if day.weekday() not in self.workdays or day in self.holidays:
            return None
        zone = ZoneInfo(self.timezone)
        return (
            datetime.combine(day, self.opens, zone).astimezone(UTC),
            datetime.combine(day, self.closes, zone).astimezone(UTC),
        )

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(ZoneInfo(self.timezone)).date()

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (in UTC) at which `duration` of business time has elapsed after `start`."""
        _require_aware(start)
        start = start.astimezone(UTC)
        if self.always_open:
            return start + duration
        remaining = duration
        cursor = start
        day = self._local_date(start)
        while True:
            window = self._window(day)
            if window is not None:
                opens, closes = window
                cursor = max(cursor, opens)
                if cursor < closes:
                    available = closes - cursor
                    if remaining <= available:
                        return cursor + remaining
                    remaining -= available
            day += timedelta(days=1)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants (zero when end is not after start)."""
        _require_aware(start)
        _require_aware(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        day = self._local_date(start)
        last = self._local_date(end)
        while day <= last:
            window = self._window(day)
            if window is not None:
                lo, hi = max(start, window[0]), min(end, window[1])
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total


class BreachLevel(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


class SlaKind(StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"


class SlaClock(BaseModel):
    """One target (response or resolution) of one incident.

    Running: due_at and warn_at are set. Paused: they are None and `remaining` holds the
    business time that was left. Stopped (met or missed): stopped_at is set.
    """

    kind: SlaKind
    target: timedelta
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    remaining: timedelta
    paused_at: datetime | None = None
    stopped_at: datetime | None = None
    warning_notified_at: datetime | None = None
    breach_notified_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.paused_at is None

    def level(self, now: datetime) -> BreachLevel:
        """Where the clock stands at `now` (a stopped clock is judged at its stop).

        A paused clock has no instants: it is judged by the business time it has left, so a
        clock paused (or stopped while paused) after its due time stays breached.
        """
        if self.due_at is None or self.warn_at is None:
            if self.remaining <= timedelta(0):
                return BreachLevel.BREACHED
            if self.remaining <= self.target * (1 - WARNING_RATIO):
                return BreachLevel.WARNING
            return BreachLevel.OK
        moment = self.stopped_at or now
        if moment >= self.due_at:
            return BreachLevel.BREACHED
        if moment >= self.warn_at:
            return BreachLevel.WARNING
        return BreachLevel.OK


def start_clock(
    kind: SlaKind, calendar: BusinessCalendar, start: datetime, target: timedelta
) -> SlaClock:
    due, warn = _due_and_warning(calendar, start, target, target)
    return SlaClock(
        kind=kind, target=target, started_at=start, due_at=due, warn_at=warn, remaining=target
    )


def pause_clock(clock: SlaClock, calendar: BusinessCalendar, at: datetime) -> SlaClock:
    """Stop counting: keep the business time that was left, forget the instants."""
    _require_aware(at)
    if not clock.running or clock.due_at is None:
        return clock
    if at < clock.due_at:
        remaining = calendar.elapsed(at, clock.due_at)
    else:
        remaining = -calendar.elapsed(clock.due_at, at)
    return clock.model_copy(
        update={"paused_at": at, "due_at": None, "warn_at": None, "remaining": remaining}
    )


def resume_clock(clock: SlaClock, calendar: BusinessCalendar, at: datetime) -> SlaClock:
    """Count again from `at` with the business time that was left when paused."""
    _require_aware(at)
    if clock.paused_at is None or clock.stopped_at is not None:
        return clock
    due, warn = _due_and_warning(calendar, at, clock.remaining, clock.target)
    return clock.model_copy(update={"paused_at": None, "due_at": due, "warn_at": warn})


def stop_clock(clock: SlaClock, at: datetime) -> SlaClock:
    """The target is met (or missed) at `at`; a paused clock stops where it was paused."""
    _require_aware(at)
    if clock.stopped_at is not None:
        return clock
    return clock.model_copy(update={"stopped_at": clock.paused_at or at})


def _due_and_warning(
    calendar: BusinessCalendar, start: datetime, remaining: timedelta, target: timedelta
) -> tuple[datetime, datetime]:
    """Due when `remaining` elapses; warn when 75% of the whole target has been used."""
    if remaining <= timedelta(0):
        return start, start
    due = calendar.add(start, remaining)
    until_warning = remaining - target * (1 - WARNING_RATIO)
    warn = calendar.add(start, until_warning) if until_warning > timedelta(0) else start
    return due, warn


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None:
        raise ValueError("SLA arithmetic needs timezone-aware datetimes")


def target_met(
    due_at: datetime | None, stopped_at: datetime | None, remaining: timedelta | None
) -> bool | None:
    """Whether a stopped SLA clock met its target; None while it runs (nothing to judge yet).

    The one judgement of a stopped clock: the ops report counts with it and the incident's
    view shows it, as `SlaClock.level` judges a running one, so both agree with what the SLA
    sweep announced: a clock stopped before its due instant met it, one stopped at or after
    missed it. A clock stopped while paused has no due instant; it met its target when
    business time was left (remaining > 0).
    """
    if stopped_at is None:
        return None
    if due_at is not None:
        return stopped_at < due_at
    return remaining is not None and remaining > timedelta(0)
