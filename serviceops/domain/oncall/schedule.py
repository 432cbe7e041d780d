"""On-call schedules as code: who in a support group answers a page at a given instant.

A group's schedule has layers (primary, secondary); each layer is a rotation: members in
order, a handoff at a wall-clock time every `period_days` days from a start date, in the
schedule's timezone, optionally restricted to some weekdays and hours. An override puts
someone else on a layer for a while ("Sam covers Alex from Friday 18:00 to Monday 09:00").
Handoffs are wall-clock times, so a rotation handing over at 09:00 still does after a change
of daylight-saving time; a layer with nobody on it (outside its restrictions, or no members)
falls to the group's manager, never to nobody.
"""

import heapq
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from serviceops.domain.oncall.escalation import EscalationPolicy
from serviceops.domain.provenance import PersonName

# A support group's name as incidents and the catalogue spell it: no control characters.
GROUP_PATTERN = r"^[^\x00-\x1f]+$"


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    CUSTOM = "custom"  # every `days` days


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class Restriction(BaseModel):
    """When a layer is on: these weekdays, from `start` to `end` local time (`end` before
    `start` runs past midnight). Business hours: mon-fri 09:00-17:00."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: list[Weekday] = Field(default_factory=lambda: list(Weekday))
    start: time = time(0, 0)
    end: time = time(0, 0)  # equal to start: the whole day

    def covers(self, local: datetime) -> bool:
        """Whether `local` (wall-clock time in the schedule's zone) falls in this window; a
        window past midnight belongs to the day it starts."""
        moment = local.time()
        if self.start == self.end:
            return _weekday(local.date()) in self.days
        if self.start < self.end:
            return _weekday(local.date()) in self.days and self.start <= moment < self.end
        if moment >= self.start:
            return _weekday(local.date()) in self.days
        return moment < self.end and _weekday(local.date() - timedelta(days=1)) in self.days


class Layer(BaseModel):
    """One rotation of a group: members in order, handing over every period at `handoff`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$", description="primary, secondary ...")
    members: list[PersonName] = Field(default_factory=list)
    start: date = Field(description="The first shift starts on this day at `handoff`.")
    handoff: time = time(9, 0)
    period: Period = Period.WEEKLY
    days: PositiveInt | None = Field(None, description="Days per shift when period is custom.")
    restrictions: list[Restriction] = Field(
        default_factory=list, description="When the layer is on; none: always."
    )

    @model_validator(mode="after")
    def _days_with_custom(self) -> "Layer":
        if (self.period is Period.CUSTOM) != (self.days is not None):
            raise ValueError("days is given with period = 'custom', and only then")
        return self

    @property
    def shift_days(self) -> int:
        match self.period:
            case Period.DAILY:
                return 1
            case Period.WEEKLY:
                return 7
        assert self.days is not None
        return self.days

    def shift_index(self, local: datetime) -> int:
        """How many handoffs have happened by `local`: negative before the first shift."""
        elapsed = (local.date() - self.start).days - (local.time() < self.handoff)
        return elapsed // self.shift_days

    def member_at(self, local: datetime) -> str | None:
        """Who the rotation has on at `local`, None outside its restrictions or its start."""
        if not self.members or self.shift_index(local) < 0:
            return None
        if self.restrictions and not any(r.covers(local) for r in self.restrictions):
            return None
        return self.members[self.shift_index(local) % len(self.members)]


class Schedule(BaseModel):
    """A support group's on-call: its layers, in its timezone, and who covers its gaps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = Field(min_length=1, max_length=100, pattern=GROUP_PATTERN)
    timezone: str = "UTC"
    manager: PersonName = Field(description="Who a gap in any layer falls to.")
    layers: list[Layer] = Field(min_length=1)
    escalation: EscalationPolicy | None = Field(
        None,
        description="Whom a page wakes, level by level; default: each layer, then the manager.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {name!r} (e.g. Europe/London)") from None
        return name

    @model_validator(mode="after")
    def _layers_named_once(self) -> "Schedule":
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ValueError(f"layer names repeat: {', '.join(names)}")
        for level in self.escalation.levels if self.escalation else []:
            unknown = [t.name for t in level.targets if t.kind == "layer" and t.name not in names]
            if unknown:
                raise ValueError(f"escalation pages layers it has not: {', '.join(unknown)}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"{self.group} has no layer {name} ({', '.join(self.layer_names)})")

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]


class Override(BaseModel):
    """Someone else on a layer for a while; the latest set wins where two overlap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int | None = None
    group: str
    layer: str = "primary"
    person: PersonName
    starts_at: datetime
    ends_at: datetime
    reason: str = Field("", max_length=500)
    created_by: str = ""
    created_at: datetime | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> "Override":
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a timezone (e.g. 2026-12-04T18:00Z)")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


class Why(StrEnum):
    ROTATION = "rotation"
    OVERRIDE = "override"
    GAP = "gap"  # nobody on the layer: the group's manager


class OnCall(BaseModel):
    """Who answers for one layer of a group at an instant, why, and until when (the next
    instant at which someone else does; None when nothing will change)."""

    group: str
    layer: str
    person: str
    why: Why
    until: datetime | None


class Shift(BaseModel):
    """Who answers for one layer now, and who after them."""

    now: OnCall
    next: OnCall | None


# How far ahead `next` looks for a change of person.
HORIZON = timedelta(days=366)


def on_call(schedule: Schedule, overrides: Iterable[Override], layer: str, at: datetime) -> OnCall:
    """Who answers for `layer` of `schedule` at `at` (aware), given the group's overrides."""
    return _at(schedule, _of_layer(overrides, schedule.group, layer), schedule.layer(layer), at)


def shift(schedule: Schedule, overrides: Iterable[Override], layer: str, at: datetime) -> Shift:
    """Who answers for `layer` at `at` and until when, and who next."""
    relevant = _of_layer(overrides, schedule.group, layer)
    rotation = schedule.layer(layer)
    current = _at(schedule, relevant, rotation, at)
    if current.until is None:
        return Shift(now=current, next=None)
    return Shift(now=current, next=_at(schedule, relevant, rotation, current.until))


def _of_layer(overrides: Iterable[Override], group: str, layer: str) -> list[Override]:
    return [o for o in overrides if o.group == group and o.layer == layer]


def _at(schedule: Schedule, overrides: Sequence[Override], layer: Layer, at: datetime) -> OnCall:
    if at.tzinfo is None:
        raise ValueError("the instant needs a timezone")
    person, why = _person(schedule, overrides, layer, at)
    until = _next_change(schedule, overrides, layer, at, person)
    return OnCall(group=schedule.group, layer=layer.name, person=person, why=why, until=until)


def _person(
    schedule: Schedule, overrides: Sequence[Override], layer: Layer, at: datetime
) -> tuple[str, Why]:
    covering = [o for o in overrides if o.covers(at)]
    if covering:
        latest = max(covering, key=lambda o: (o.created_at or o.starts_at, o.id or 0))
        return latest.person, Why.OVERRIDE
    member = layer.member_at(at.astimezone(schedule.zone))
    if member is None:
        return schedule.manager, Why.GAP
    return member, Why.ROTATION


def _next_change(
    schedule: Schedule,
    overrides: Sequence[Override],
    layer: Layer,
    at: datetime,
    person: str,
) -> datetime | None:
    """The first instant after `at` at which someone other than `person` answers."""
    for candidate in _boundaries(schedule, overrides, layer, at):
        if _person(schedule, overrides, layer, candidate)[0] != person:
            return candidate
    return None


def _boundaries(
    schedule: Schedule, overrides: Sequence[Override], layer: Layer, at: datetime
) -> Iterator[datetime]:
    """Every instant after `at`, within HORIZON, at which who answers may change, in order
    and lazily (the first change is usually within a day): each day's handoff time and
    restriction edges (wall-clock, so DST moves them in UTC), the rotation's start, and the
    overrides' starts and ends."""
    zone, end = schedule.zone, at + HORIZON
    edges = {o.starts_at for o in overrides} | {o.ends_at for o in overrides}
    edges = {t.astimezone(UTC) for t in edges} | {_instant(layer.start, layer.handoff, zone)}
    moments = sorted({layer.handoff} | {t for r in layer.restrictions for t in (r.start, r.end)})
    first = at.astimezone(zone).date()
    daily = (
        _instant(first + timedelta(days=offset), moment, zone)
        for offset in range(HORIZON.days + 1)
        for moment in moments
    )
    previous = None
    for candidate in heapq.merge(sorted(edges), daily):
        if candidate > end:
            return
        if candidate > at and candidate != previous:
            previous = candidate
            yield candidate


def _instant(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """The wall-clock `moment` of `day` in `zone`, in UTC. A time the clocks skip (02:30 on
    the spring-forward night) is read with the offset before the jump, so it is the instant
    the clock shows 03:30; a time that happens twice is its first occurrence. In UTC because
    Python never finds such a local time equal to an instant of another zone (PEP 495)."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def _weekday(day: date) -> Weekday:
    return list(Weekday)[day.weekday()]
