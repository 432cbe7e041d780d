"""Who is on call, as the read API, `serviceops oncall who --json` and the board show it."""

from datetime import datetime

from pydantic import BaseModel

from serviceops.domain.oncall import (
    OnCall,
    Override,
    Schedule,
    Shift,
    UnknownSchedule,
    Why,
    override_number,
    shift,
)


class OnCallView(BaseModel):
    """One layer of one group: who answers now, why (rotation, override, or a gap the manager
    covers), until when, and who after them."""

    group: str
    layer: str
    person: str
    why: Why
    until: datetime | None
    next_person: str | None
    next_why: Why | None
    next_until: datetime | None

    @classmethod
    def of(cls, shift: Shift) -> "OnCallView":
        after: OnCall | None = shift.next
        return cls(
            group=shift.now.group,
            layer=shift.now.layer,
            person=shift.now.person,
            why=shift.now.why,
            until=shift.now.until,
            next_person=None if after is None else after.person,
            next_why=None if after is None else after.why,
            next_until=None if after is None else after.until,
        )


class OverrideView(BaseModel):
    number: str
    group: str
    layer: str
    person: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

    @classmethod
    def of(cls, override: Override) -> "OverrideView":
        assert override.id is not None
        return cls(
            number=override_number(override.id),
            **override.model_dump(include={"group", "layer", "person", "starts_at", "ends_at"}),
            reason=override.reason,
            created_by=override.created_by,
        )


class OnCallDocument(BaseModel):
    """`{"at", "oncall": [...], "overrides": [...]}`: every layer of every group asked for,
    at one instant, and the overrides now and to come."""

    at: datetime
    oncall: list[OnCallView]
    overrides: list[OverrideView]


def on_call_document(
    schedules: list[Schedule], overrides: list[Override], at: datetime, group: str | None = None
) -> OnCallDocument:
    """Every layer of every group (or of `group`) at `at`, now and next, with the overrides
    given (those not ended); UnknownSchedule names the groups there are."""
    chosen = [s for s in schedules if group is None or s.group == group]
    if not chosen and group is not None:
        known = ", ".join(s.group for s in schedules) or "none"
        raise UnknownSchedule(f"no on-call schedule for {group} (there are: {known})")
    views = [
        OnCallView.of(shift(schedule, overrides, layer, at))
        for schedule in sorted(chosen, key=lambda s: s.group)
        for layer in schedule.layer_names
    ]
    shown = [o for o in overrides if group is None or o.group == group]
    return OnCallDocument(at=at, oncall=views, overrides=[OverrideView.of(o) for o in shown])
