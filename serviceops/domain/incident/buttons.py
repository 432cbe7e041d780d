"""The buttons on an incident's Slack message: one per next legal step (steps.next_steps, so
always what the transition table allows from the incident's state), each naming the incident
and the transition's flow. A step that needs more than who acts (a resolution code and notes,
an escalation, a reason) opens a modal first; the others are done on the press."""

import json
from typing import Any

from pydantic import BaseModel, Field

from serviceops.domain.incident.record import (
    EscalateIncident,
    Incident,
    IncidentCommand,
    PendIncident,
    ReopenIncident,
    ResolveIncident,
)
from serviceops.domain.incident.steps import STEPS, next_steps

STEP_ACTION = "incident_step"
ASKS_FIRST: frozenset[type[IncidentCommand]] = frozenset(
    {ResolveIncident, EscalateIncident, PendIncident, ReopenIncident}
)


class StepButton(BaseModel):
    """A button's value: which incident, which step (the transition's flow name)."""

    number: str = Field(pattern=r"^INC-\d{6,}$")
    step: str = Field(max_length=60)

    def command(self) -> type[IncidentCommand] | None:
        return next((c for c in STEPS if c.flow_name == self.step), None)


def step_buttons(incident: Incident) -> list[dict[str, Any]]:
    """Label, action id and value of each button, in the order next_steps gives."""
    return [
        {
            "label": command.label,
            "action_id": f"{STEP_ACTION}:{command.flow_name}",
            "value": json.dumps({"number": incident.number, "step": command.flow_name}),
        }
        for command in next_steps(incident)
    ]
