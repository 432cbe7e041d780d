"""Events, alerts and alert actions: their tables and repositories.

Intake is one multi-row INSERT per delivery, so a webhook's cost does not grow with the rules.
Correlation takes the pending events in arrival order under the processing lock, loads only
the alerts the batch can touch (its resources and fingerprints: two indexed lookups), and writes
back with bulk statements: the per-event work is the pure Correlator's."""

from serviceops.store.event.actions import AlertAction, AlertActionRepository
from serviceops.store.event.alerts import AlertRepository
from serviceops.store.event.events import EventRepository, event_id
from serviceops.store.event.silences import SilenceRepository

__all__ = [
    "AlertAction",
    "AlertActionRepository",
    "AlertRepository",
    "EventRepository",
    "SilenceRepository",
    "event_id",
]
