"""Handoffs: when who answers a layer changes (a rotation's handoff, an override beginning or
ending), the incoming person is told what they take over and the outgoing one that they are
off. Found by comparing who was on at the start of a window with who is on at its end, so a
sweep that runs every minute over the last few minutes sees each handoff more than once and
sends it once (its key)."""

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel

from serviceops.domain.oncall.schedule import Override, Schedule, on_call


class Handoff(BaseModel):
    group: str
    layer: str
    outgoing: str
    incoming: str
    at: datetime  # when the outgoing person's turn ended

    @property
    def key(self) -> str:
        """The same handoff seen by several sweeps has one key."""
        return f"handoff:{self.group}:{self.layer}:{self.at.isoformat()}"


def handoffs(
    schedules: Iterable[Schedule], overrides: list[Override], since: datetime, until: datetime
) -> list[Handoff]:
    """The layers whose person changed between `since` and `until` (the last change in that
    window, when there were several: the sweep's window is minutes, shifts are hours)."""
    found = []
    for schedule in schedules:
        for layer in schedule.layer_names:
            before = on_call(schedule, overrides, layer, since)
            after = on_call(schedule, overrides, layer, until)
            if before.person == after.person or before.until is None:
                continue
            found.append(
                Handoff(
                    group=schedule.group,
                    layer=layer,
                    outgoing=before.person,
                    incoming=after.person,
                    at=min(before.until, until),
                )
            )
    return found
