"""Event management (ITIL SO 4.1): events and their filtering and significance (record),
Alertmanager's webhook (alertmanager), correlation of events into alerts and the actions they
decide (correlation), what those actions do to incidents (incidents), and check results as
events (check_events).
"""

from serviceops.domain.event.alertmanager import AlertmanagerPayload, to_events
from serviceops.domain.event.check_events import (
    MissedCheck,
    events_for,
    missed_check_event,
    reported_check_event,
)
from serviceops.domain.event.correlation import (
    Action,
    ActionKind,
    Alert,
    AlertChange,
    AlertState,
    Correlator,
    Decisions,
    Notice,
    NoticeKind,
)
from serviceops.domain.event.incidents import NeedsNewIncident, draft_for, follow_up
from serviceops.domain.event.record import (
    NAME_PATTERN,
    EventIn,
    EventPolicy,
    EventStatus,
    Match,
    Response,
    ResponseRule,
    Runbook,
    RunbookRefused,
    Severity,
    Significance,
    SignificanceRule,
)

__all__ = [
    "NAME_PATTERN",
    "Action",
    "ActionKind",
    "Alert",
    "AlertChange",
    "AlertState",
    "AlertmanagerPayload",
    "Correlator",
    "Decisions",
    "EventIn",
    "EventPolicy",
    "EventStatus",
    "Match",
    "MissedCheck",
    "NeedsNewIncident",
    "Notice",
    "NoticeKind",
    "Response",
    "ResponseRule",
    "Runbook",
    "RunbookRefused",
    "Severity",
    "Significance",
    "SignificanceRule",
    "draft_for",
    "events_for",
    "follow_up",
    "missed_check_event",
    "reported_check_event",
    "to_events",
]
