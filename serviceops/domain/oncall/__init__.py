"""On-call: each support group's schedule (layers of rotations, restrictions), overrides,
and who answers a page at an instant (schedule); setting an override (overrides)."""

from serviceops.domain.oncall.overrides import (
    SetOverride,
    UnknownSchedule,
    check_override,
    override_number,
    override_set,
)
from serviceops.domain.oncall.schedule import (
    GROUP_PATTERN,
    HORIZON,
    Layer,
    OnCall,
    Override,
    Period,
    Restriction,
    Schedule,
    Shift,
    Weekday,
    Why,
    on_call,
    shift,
)

__all__ = [
    "GROUP_PATTERN",
    "HORIZON",
    "Layer",
    "OnCall",
    "Override",
    "Period",
    "Restriction",
    "Schedule",
    "SetOverride",
    "Shift",
    "UnknownSchedule",
    "Weekday",
    "Why",
    "check_override",
    "on_call",
    "override_number",
    "override_set",
    "shift",
]
