"""Silences (SIL-000001): quiet an operator declares on a CI, a service or a check.

Planned work that no change record covers (a reboot, a migration at night) should not page
anyone. A silence matches events by the CI, service and check it names (all it names must
match); while it is active, a new alert of a matching event is recorded as usual but held:
no incident, no page, no message, the alert marked with the silence's number. Every silence
has an owner and an end: it cannot be left on by mistake, and when it ends (or is lifted) the
alerts it held that are still firing proceed as if they had just fired.

A silence is a record with a lifecycle of its own (active, then expired or lifted) and an audit
trail. Its owner is reminded in Slack before it ends, and once it has been extended
EXTENDED_TOO_OFTEN times (planned work that keeps running over is worth a look).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from serviceops.domain.event.record import NAME_PATTERN, EventIn
from serviceops.domain.machine import (
    AuditEntry,
    Lifecycle,
    change_entry,
    first_entry,
)
from serviceops.domain.provenance import SYSTEM_ACTOR, PersonName

LONGEST = timedelta(days=14)
REMIND_BEFORE = timedelta(minutes=15)
EXTENDED_TOO_OFTEN = 3


class SilenceState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    LIFTED = "lifted"


class SilenceAction(StrEnum):
    ADD = "add"
    EXTEND = "extend"
    LIFT = "lift"
    EXPIRE = "expire"


SILENCES = Lifecycle[SilenceState, SilenceAction](
    "silence",
    {
        (SilenceState.ACTIVE, SilenceAction.EXTEND): SilenceState.ACTIVE,
        (SilenceState.ACTIVE, SilenceAction.LIFT): SilenceState.LIFTED,
        (SilenceState.ACTIVE, SilenceAction.EXPIRE): SilenceState.EXPIRED,
    },
)


class SilenceRefused(ValueError):
    """The silence asked for cannot be: no end, an end in the past or too far away."""


class SilenceDraft(BaseModel):
    """What an operator declares: what to silence, until when, why, and who owns it."""

    ci: str | None = Field(
        None, pattern=NAME_PATTERN, max_length=100, title="CI", description="e.g. db-01"
    )
    service: str | None = Field(
        None, pattern=NAME_PATTERN, max_length=100, title="Service", description="e.g. mail"
    )
    check: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        title="Check",
        description="The alert name or check, e.g. HighLatency",
    )
    ends_at: AwareDatetime = Field(
        title="Until", description=f"When it ends by itself; at most {LONGEST.days} days ahead."
    )
    reason: str = Field(
        min_length=3, max_length=500, title="Reason", description="The planned work, for the trail."
    )
    owner: PersonName = Field(
        title="Owner",
        description="Who answers for it (a directory user name); reminded in Slack before it ends.",
    )

    @model_validator(mode="after")
    def _names_something(self) -> "SilenceDraft":
        if not (self.ci or self.service or self.check):
            raise ValueError("a silence names a ci, a service or a check (or several)")
        return self


class AddSilence(SilenceDraft):
    """The add-silence form: the silence, and who declares it."""

    actor: PersonName = Field(title="Actor", description="Who declares it.")


class ExtendSilence(BaseModel):
    number: str = Field(pattern=r"^SIL-\d{6,}$", title="Silence", description="SIL-000001")
    ends_at: AwareDatetime = Field(title="Until", description="The new end, later than the old.")
    actor: PersonName = Field(title="Actor", description="Who extends it.")


class LiftSilence(BaseModel):
    number: str = Field(pattern=r"^SIL-\d{6,}$", title="Silence", description="SIL-000001")
    reason: str = Field("", max_length=500, title="Reason", description="e.g. work finished")
    actor: PersonName = Field(title="Actor", description="Who lifts it.")


class Silence(SilenceDraft):
    number: str
    state: SilenceState = SilenceState.ACTIVE
    created_at: datetime
    updated_at: datetime
    extensions: int = 0

    def active(self, at: datetime) -> bool:
        return self.state is SilenceState.ACTIVE and self.created_at <= at < self.ends_at

    def matches(self, event: EventIn) -> bool:
        """Everything it names is what the event names."""
        return (
            (self.ci is None or self.ci == event.ci)
            and (self.service is None or self.service == event.service)
            and (self.check is None or self.check == event.check)
        )

    @property
    def scope(self) -> str:
        """`ci db-01, check DiskFull`: what it silences, for messages and the trail."""
        named = (("ci", self.ci), ("service", self.service), ("check", self.check))
        return ", ".join(f"{name} {value}" for name, value in named if value)


SILENCE_PREFIX = "SIL-"
# An implementing change holds alerts as silences numbered with its own number
# (domain.change.windows): a holder with either prefix is a window, not a parent alert.
CHANGE_PREFIX = "CHG-"
WINDOW_PREFIXES = (CHANGE_PREFIX, SILENCE_PREFIX)


class SilenceIndex:
    """The active silences by what they name first (CI, else service, else check), so that a
    new alert finds its silence among a thousand without reading them all."""

    def __init__(self, silences: Iterable[Silence]) -> None:
        self._by: dict[tuple[str, str], list[Silence]] = {}
        self._numbered: dict[str, Silence] = {}
        for silence in sorted(silences, key=_order):
            self._by.setdefault(_first_named(silence), []).append(silence)
            self._numbered[silence.number] = silence

    def covering(self, event: EventIn) -> Silence | None:
        """The silence (lowest number) that matches the event, if any."""
        found: Silence | None = None
        for name, value in (("ci", event.ci), ("service", event.service), ("check", event.check)):
            if value is None:
                continue
            for silence in self._by.get((name, value), ()):
                if silence.matches(event) and (found is None or _order(silence) < _order(found)):
                    found = silence
                    break
        return found

    def covering_alert(self, ci: str | None, service: str | None) -> Silence | None:
        """A silence (lowest number) over this CI or service and no particular check: what
        holds an alert let go by another holder (an alert keeps no one check of its own)."""
        found: Silence | None = None
        for name, value in (("ci", ci), ("service", service)):
            if value is None:
                continue
            for silence in self._by.get((name, value), ()):
                fits = (
                    silence.check is None
                    and (silence.ci is None or silence.ci == ci)
                    and (silence.service is None or silence.service == service)
                )
                if fits and (found is None or _order(silence) < _order(found)):
                    found = silence
        return found

    def covers(self, number: str, event: EventIn) -> bool:
        """Whether silence `number` is active and matches the event."""
        silence = self._numbered.get(number)
        return silence is not None and silence.matches(event)


def _order(silence: Silence) -> tuple[str, int]:
    """Changes' windows first, then silences, each by their number's value: SIL-999999 comes
    before SIL-1000000."""
    prefix, _, value = silence.number.partition("-")
    return prefix, int(value)


def _first_named(silence: Silence) -> tuple[str, str]:
    if silence.ci:
        return "ci", silence.ci
    if silence.service:
        return "service", silence.service
    return "check", silence.check or ""


class SilenceChange(BaseModel):
    silence: Silence
    audit: AuditEntry


def _check_end(ends_at: datetime, at: datetime) -> None:
    if ends_at <= at:
        raise SilenceRefused(f"the end {ends_at:%Y-%m-%d %H:%M %Z} is not in the future")
    if ends_at - at > LONGEST:
        raise SilenceRefused(
            f"the end {ends_at:%Y-%m-%d %H:%M %Z} is more than {LONGEST.days} days away: "
            "a silence that long hides more than planned work"
        )


def check_new(draft: SilenceDraft, at: datetime) -> None:
    """SilenceRefused unless the draft ends in the future and within LONGEST."""
    _check_end(draft.ends_at, at)


def added(silence: Silence, actor: str) -> AuditEntry:
    """A new silence's first audit row: what it silences, until when and why."""
    reason = f"{silence.scope} until {silence.ends_at:%Y-%m-%d %H:%M %Z}: {silence.reason}"
    return first_entry(silence, SilenceAction.ADD, actor, silence.created_at, reason)


def extend(silence: Silence, ends_at: datetime, actor: str, at: datetime) -> SilenceChange:
    """A later end for an active silence; each extension is counted."""
    state = SILENCES.next_state(silence.number, silence.state, SilenceAction.EXTEND)
    if ends_at <= silence.ends_at:
        raise SilenceRefused(
            f"{silence.number}: the new end must be later than {silence.ends_at:%Y-%m-%d %H:%M %Z}"
        )
    _check_end(ends_at, at)
    after = silence.model_copy(
        update={
            "state": state,
            "ends_at": ends_at,
            "extensions": silence.extensions + 1,
            "updated_at": at,
        }
    )
    reason = (
        f"until {ends_at:%Y-%m-%d %H:%M %Z} (was {silence.ends_at:%Y-%m-%d %H:%M %Z}; "
        f"extension {after.extensions})"
    )
    return SilenceChange(
        silence=after, audit=change_entry(silence, after, SilenceAction.EXTEND, actor, at, reason)
    )


def lift(silence: Silence, actor: str, at: datetime, reason: str = "") -> SilenceChange:
    """Ended by hand before its time: what it held proceeds."""
    state = SILENCES.next_state(silence.number, silence.state, SilenceAction.LIFT)
    after = silence.model_copy(update={"state": state, "updated_at": at})
    return SilenceChange(
        silence=after,
        audit=change_entry(silence, after, SilenceAction.LIFT, actor, at, reason or "lifted"),
    )


def expire(silence: Silence, at: datetime) -> SilenceChange:
    """Its end has come (serviceops acts): what it held proceeds."""
    state = SILENCES.next_state(silence.number, silence.state, SilenceAction.EXPIRE)
    after = silence.model_copy(update={"state": state, "updated_at": at})
    reason = f"ended at {silence.ends_at:%Y-%m-%d %H:%M %Z}"
    return SilenceChange(
        silence=after,
        audit=change_entry(silence, after, SilenceAction.EXPIRE, SYSTEM_ACTOR, at, reason),
    )


class Reminder(BaseModel):
    """A Slack message to a silence's owner; `key` makes it once (the outbox's key)."""

    key: str
    kind: str = Field(description="ending or extended")
    silence: Silence


def reminders(silence: Silence, at: datetime) -> list[Reminder]:
    """What its owner should hear now: that it ends within REMIND_BEFORE (once per end: an
    extension earns a new reminder before the new end), and that it has been extended
    EXTENDED_TOO_OFTEN times (once)."""
    if not silence.active(at):
        return []
    due: list[Reminder] = []
    if silence.ends_at - REMIND_BEFORE <= at:
        key = f"{silence.number}:ending:{silence.ends_at:%Y%m%dT%H%M%S}"
        due.append(Reminder(key=key, kind="ending", silence=silence))
    if silence.extensions >= EXTENDED_TOO_OFTEN:
        key = f"{silence.number}:extended:{EXTENDED_TOO_OFTEN}"
        due.append(Reminder(key=key, kind="extended", silence=silence))
    return due
