"""The report's period: a day or a week of local calendar days in the operator's time zone,
as UTC instants for the store's queries."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, computed_field, field_validator, model_validator


class ReportKind(StrEnum):
    """How long a report's period is: one day or seven."""

    DAILY = "daily"
    WEEKLY = "weekly"


PERIOD_DAYS = {ReportKind.DAILY: 1, ReportKind.WEEKLY: 7}


def zone(name: str) -> ZoneInfo:
    """The IANA timezone `name`, or a ValueError that says so (ZoneInfoNotFoundError is a
    KeyError, which pydantic would not report as an invalid value)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}; use an IANA name") from None


# --------------------------------------------------------------------------- the period


class ReportPeriod(BaseModel):
    """Whole local days [start, end) in one timezone; start and end are stored in UTC."""

    kind: ReportKind
    start: datetime = Field(description="First instant of the period (UTC), inclusive.")
    end: datetime = Field(description="First instant after the period (UTC), exclusive.")
    timezone: str = Field("UTC", description="IANA timezone the days and hours are local to.")

    @field_validator("start", "end")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("a report period needs timezone-aware instants")
        return value.astimezone(UTC)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        zone(value)
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> "ReportPeriod":
        if self.start >= self.end:
            raise ValueError("a report period must start before it ends")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_day(self) -> date:
        """The first local day of the period."""
        return self.local(self.start).date()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def last_day(self) -> date:
        """The last local day of the period (the end is the midnight after it)."""
        return (self.local(self.end) - timedelta(days=1)).date()

    def local(self, instant: datetime) -> datetime:
        """`instant` on the report's wall clock (for hours of the day and days)."""
        return instant.astimezone(zone(self.timezone))

    def contains(self, instant: datetime | None) -> bool:
        """Whether `instant` falls in [start, end); None (never happened) does not."""
        return instant is not None and self.start <= instant < self.end

    def days(self) -> list[date]:
        """Every local day of the period, in order."""
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=offset) for offset in range(count)]


def period_through(kind: ReportKind, last_day: date, timezone: str = "UTC") -> ReportPeriod:
    """The daily (one day) or weekly (seven days) period whose last local day is `last_day`.

    Boundaries are local midnights, built from dates rather than by adding 24-hour steps, so a
    period across a DST change is 23 or 25 hours a day as the calendar says.
    """
    local = zone(timezone)
    first_day = last_day - timedelta(days=PERIOD_DAYS[kind] - 1)
    return ReportPeriod(
        kind=kind,
        start=datetime.combine(first_day, time(0), local),
        end=datetime.combine(last_day + timedelta(days=1), time(0), local),
        timezone=timezone,
    )


def period_ending(kind: ReportKind, at: datetime, timezone: str = "UTC") -> ReportPeriod:
    """The most recent whole period before `at`: daily, yesterday (local); weekly, the seven
    whole days before today (run on a Monday: Monday to Sunday of last week).

    Whole days only, because a report of a day still running would change every time it is
    read, and the schedules (06:00) run after the day they report on has ended.
    """
    if at.tzinfo is None:
        raise ValueError("period_ending needs a timezone-aware instant")
    today = at.astimezone(zone(timezone)).date()
    return period_through(kind, today - timedelta(days=1), timezone)


# --------------------------------------------------------------------------- formulas
