"""Setting an override: the form a person fills in (the deployment, the CLI), the checks
against the catalogue's schedules, and the audit row that records who set it."""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from serviceops.domain.machine import AuditEntry
from serviceops.domain.oncall.schedule import GROUP_PATTERN, Override, Schedule
from serviceops.domain.provenance import PersonName


def override_number(override_id: int) -> str:
    """An override's name in the audit trail and the CLI: OVR-000001."""
    return f"OVR-{override_id:06d}"


class SetOverride(BaseModel):
    """Put someone else on call for a while: "Sam covers Alex from Friday 18:00 to Monday
    09:00". The latest override wins where two overlap."""

    group: str = Field(
        min_length=1,
        max_length=100,
        pattern=GROUP_PATTERN,
        title="Support group",
        description="e.g. dba",
    )
    layer: str = Field(
        "primary", min_length=1, max_length=40, title="Layer", description="primary, secondary"
    )
    person: PersonName = Field(title="Who covers", description="A directory user name.")
    starts_at: AwareDatetime = Field(title="From", description="With its timezone.")
    ends_at: AwareDatetime = Field(title="Until", description="With its timezone.")
    reason: str = Field("", max_length=500, title="Reason", description="e.g. Alex on leave")
    actor: PersonName = Field(title="Actor", description="Who sets it.")

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> "SetOverride":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class UnknownSchedule(ValueError):
    """The group has no schedule, or its schedule no such layer; the message names those
    there are."""


def check_override(command: SetOverride, schedules: list[Schedule]) -> Override:
    """The override `command` sets, once its group and layer exist; UnknownSchedule, or a
    ValueError from Override (it ends before it starts), when it cannot be set."""
    schedule = next((s for s in schedules if s.group == command.group), None)
    if schedule is None:
        known = ", ".join(sorted(s.group for s in schedules)) or "none"
        raise UnknownSchedule(f"no on-call schedule for {command.group} (there are: {known})")
    if command.layer not in schedule.layer_names:
        layers = ", ".join(schedule.layer_names)
        raise UnknownSchedule(f"{command.group} has no layer {command.layer} ({layers})")
    return Override(
        group=command.group,
        layer=command.layer,
        person=command.person,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        reason=command.reason,
        created_by=command.actor,
    )


def override_set(override: Override, at: datetime) -> AuditEntry:
    """The audit row of a stored override (it has its id)."""
    assert override.id is not None, "an override is audited once stored"
    reason = (
        f"{override.person} on {override.group}/{override.layer} from "
        f"{override.starts_at.isoformat()} to {override.ends_at.isoformat()}"
        + (f": {override.reason}" if override.reason else "")
    )
    return AuditEntry(
        record=override_number(override.id),
        action="override",
        actor=override.created_by,
        at=at,
        from_state=None,
        to_state="set",
        reason=reason,
    )
