"""What each step of the incident procedure does to the record.

Every function takes an incident and returns a `Change`: the new incident and the audit entry
that explains it. Nothing here reads a clock or a database; callers pass `at` and the inputs.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from serviceops.domain.incident.policy import IncidentPolicy
from serviceops.domain.incident.record import (
    INCIDENTS,
    TRANSITIONS,
    AcknowledgeIncident,
    CloseIncident,
    EscalateIncident,
    EscalationKind,
    Incident,
    IncidentAction,
    IncidentCommand,
    IncidentState,
    KnownErrorMatch,
    PendIncident,
    ReopenIncident,
    ResolutionCode,
    ResolveIncident,
    ResumeIncident,
    StartIncidentWork,
    check_reopen_window,
)
from serviceops.domain.incident.routing import route
from serviceops.domain.incident.sla import (
    BreachLevel,
    SlaClock,
    SlaKind,
    pause_clock,
    resume_clock,
    start_clock,
    stop_clock,
)
from serviceops.domain.machine import SYSTEM_ACTOR, AuditEntry, change_entry, first_entry
from serviceops.domain.priority import Priority
from serviceops.domain.problem import KnownError, match_known_errors
from serviceops.domain.provenance import Provenance, UnverifiedActor


class Change(BaseModel):
    incident: Incident
    audit: AuditEntry


class SlaAlert(BaseModel):
    """A threshold the sweep found crossed and not yet notified."""

    kind: SlaKind
    level: BreachLevel
    due_at: datetime


def _change(
    before: Incident, after: Incident, action: str, actor: str, at: datetime, reason: str = ""
) -> Change:
    after = after.model_copy(update={"updated_at": at})
    return Change(incident=after, audit=change_entry(before, after, action, actor, at, reason))


def logged(incident: Incident) -> AuditEntry:
    """The first audit row of every incident: where it came from and who reported it."""
    reason = f"logged from {incident.source.value}"
    return first_entry(incident, "log", incident.reporter, incident.created_at, reason)


def categorize(incident: Incident, policy: IncidentPolicy, at: datetime) -> Change:
    category, corrected = policy.normalise_category(incident.category)
    after = incident.model_copy(
        update={
            "category": category,
            "category_corrected": incident.category_corrected or corrected,
        }
    )
    reason = f"category {category}"
    if category != incident.category:
        reason += f" (given {incident.category!r})"
    return _change(incident, after, "categorize", SYSTEM_ACTOR, at, reason)


def prioritize(incident: Incident, policy: IncidentPolicy, at: datetime) -> Change:
    priority = policy.priorities.priority_for(
        incident.impact, incident.urgency, service=incident.service, reporter=incident.reporter
    )
    major = incident.major or priority == Priority.CRITICAL
    after = incident.model_copy(update={"priority": priority, "major": major})
    reason = (
        f"{incident.impact.value} impact x {incident.urgency.value} urgency -> {priority.label}"
    )
    return _change(incident, after, "prioritize", SYSTEM_ACTOR, at, reason + (", major" * major))


def diagnose(incident: Incident, known_errors: list[KnownError], at: datetime) -> Change:
    """Initial diagnosis: attach the best-matching known error's workaround, if any (matched
    on service or CI, category and symptom text; see match_known_errors)."""
    matches = match_known_errors(
        known_errors,
        service=incident.service,
        ci=incident.ci,
        category=incident.category,
        text=f"{incident.title} {incident.description}",
    )
    if not matches:
        return _change(incident, incident, "diagnose", SYSTEM_ACTOR, at, "no known error matched")
    best = matches[0]
    found = KnownErrorMatch(number=best.number, title=best.title, workaround=best.workaround)
    after = incident.model_copy(update={"known_error": found})
    return _change(incident, after, "diagnose", SYSTEM_ACTOR, at, f"matches {best.number}")


def assign(incident: Incident, policy: IncidentPolicy, at: datetime) -> Change:
    """Route to a support group by service and category (first matching rule wins)."""
    group = route(
        policy.group_routes,
        policy.default_group,
        service=incident.service,
        category=incident.category,
        priority=_priority(incident),
    )
    state = INCIDENTS.next_state(incident.number, incident.state, IncidentAction.ASSIGN)
    after = incident.model_copy(update={"state": state, "support_group": group})
    return _change(incident, after, IncidentAction.ASSIGN, SYSTEM_ACTOR, at, f"to {group}")


def start_slas(incident: Incident, policy: IncidentPolicy, at: datetime) -> Change:
    """Start the response and resolution clocks from the moment the incident was logged."""
    priority = _priority(incident)
    target = policy.priorities.target_for(priority)
    calendar = policy.calendar_for(priority)
    clocks: dict[str, SlaClock | None] = {"response_sla": None, "resolution_sla": None}
    if target.response is not None:
        clocks["response_sla"] = start_clock(
            SlaKind.RESPONSE, calendar, incident.created_at, target.response
        )
    if target.resolution is not None:
        clocks["resolution_sla"] = start_clock(
            SlaKind.RESOLUTION, calendar, incident.created_at, target.resolution
        )
    after = incident.model_copy(update=clocks)
    dues = ", ".join(
        f"{k.split('_')[0]} due {c.due_at:%Y-%m-%d %H:%M %Z}" for k, c in clocks.items() if c
    )
    return _change(incident, after, "set_sla", SYSTEM_ACTOR, at, dues or "planned: no target")


def acknowledge(incident: Incident, actor: str, at: datetime) -> Change:
    state = INCIDENTS.next_state(incident.number, incident.state, IncidentAction.ACKNOWLEDGE)
    after = _owned(incident, actor, at).model_copy(update={"state": state})
    return _change(incident, after, IncidentAction.ACKNOWLEDGE, actor, at)


def start_work(incident: Incident, actor: str, at: datetime) -> Change:
    state = INCIDENTS.next_state(incident.number, incident.state, IncidentAction.START_WORK)
    after = _owned(incident, actor, at).model_copy(update={"state": state})
    return _change(incident, after, IncidentAction.START_WORK, actor, at)


def pend(
    incident: Incident, policy: IncidentPolicy, actor: str, at: datetime, reason: str
) -> Change:
    state = INCIDENTS.next_state(incident.number, incident.state, IncidentAction.PEND)
    calendar = policy.calendar_for(_priority(incident))
    after = incident.model_copy(
        update={
            "state": state,
            "pending_reason": reason,
            **_both_clocks(incident, lambda c: pause_clock(c, calendar, at)),
        }
    )
    return _change(incident, after, IncidentAction.PEND, actor, at, reason)


def resume(incident: Incident, policy: IncidentPolicy, actor: str, at: datetime) -> Change:
    state = INCIDENTS.next_state(incident.number, incident.state, IncidentAction.RESUME)
    calendar = policy.calendar_for(_priority(incident))
    after = incident.model_copy(
        update={
            "state": state,
            "pending_reason": None,
            **_both_clocks(incident, lambda c: resume_clock(c, calendar, at)),
        }
    )
    return _change(incident, after, IncidentAction.RESUME, actor, at)


def escalate(
    incident: Incident,
    policy: IncidentPolicy,
    kind: EscalationKind,
    actor: str,
    at: datetime,
    reason: str,
    to_group: str | None = None,
) -> Change:
    """Functional: another group takes it (ownership is cleared). Hierarchic: management told."""
    if kind is EscalationKind.FUNCTIONAL:
        if not to_group:
            raise ValueError(f"{incident.number}: a functional escalation needs to_group")
        state = INCIDENTS.next_state(
            incident.number, incident.state, IncidentAction.ESCALATE_FUNCTIONAL
        )
        update = {"state": state, "support_group": to_group, "assignee": None}
        action = IncidentAction.ESCALATE_FUNCTIONAL
        reason = f"to {to_group}: {reason}"
    else:
        state = INCIDENTS.next_state(
            incident.number, incident.state, IncidentAction.ESCALATE_HIERARCHIC
        )
        update = {"state": state}
        action = IncidentAction.ESCALATE_HIERARCHIC
    update["escalation_count"] = incident.escalation_count + 1
    after = incident.model_copy(update=update)
    if incident.state == IncidentState.PENDING and state != IncidentState.PENDING:
        # Handed on from pending: the wait is over, so the clocks run again.
        calendar = policy.calendar_for(_priority(incident))
        after = after.model_copy(
            update={
                "pending_reason": None,
                **_both_clocks(after, lambda c: resume_clock(c, calendar, at)),
            }
        )
    return _change(incident, after, action, actor, at, reason)


def resolve(
    incident: Incident, actor: str, at: datetime, code: ResolutionCode, notes: str
) -> Change:
    state = INCIDENTS.next_state(incident.number, incident.state, IncidentAction.RESOLVE)
    after = incident.model_copy(
        update={
            "state": state,
            "resolution_code": code,
            "resolution_notes": notes,
            "resolved_at": at,
            "pending_reason": None,
            **_both_clocks(incident, lambda c: stop_clock(c, at)),
        }
    )
    return _change(incident, after, IncidentAction.RESOLVE, actor, at, f"{code.value}: {notes}")


def close(incident: Incident, actor: str, at: datetime, note: str = "") -> Change:
    state = INCIDENTS.next_state(incident.number, incident.state, IncidentAction.CLOSE)
    after = incident.model_copy(update={"state": state, "closed_at": at})
    return _change(incident, after, IncidentAction.CLOSE, actor, at, note)


def reopen(
    incident: Incident, policy: IncidentPolicy, actor: str, at: datetime, reason: str
) -> Change:
    """Back to work within the window; the resolution clock runs on from where it stopped."""
    state = INCIDENTS.next_state(incident.number, incident.state, IncidentAction.REOPEN)
    check_reopen_window(incident, at, policy.reopen_window)
    calendar = policy.calendar_for(_priority(incident))

    def restart(clock: SlaClock) -> SlaClock:
        if clock.stopped_at is None:
            return clock
        running = clock.model_copy(update={"stopped_at": None})
        return resume_clock(pause_clock(running, calendar, clock.stopped_at), calendar, at)

    after = incident.model_copy(
        update={
            "state": state,
            "resolved_at": None,
            "resolution_code": None,
            "reopen_count": incident.reopen_count + 1,
            "resolution_sla": _map(incident.resolution_sla, restart),
        }
    )
    return _change(incident, after, IncidentAction.REOPEN, actor, at, reason)


def note(incident: Incident, actor: str, at: datetime, reason: str) -> Change:
    """Something happened to the incident that changes no state (an event from monitoring):
    kept on its trail."""
    return _change(incident, incident, "event", actor, at, reason)


def sla_alerts(incident: Incident, now: datetime) -> list[SlaAlert]:
    """Thresholds crossed and not yet notified: at most one alert per clock, the worst one."""
    alerts = []
    for clock in (incident.response_sla, incident.resolution_sla):
        if clock is None or not clock.running or clock.due_at is None:
            continue
        level = clock.level(now)
        told = {
            BreachLevel.BREACHED: clock.breach_notified_at,
            BreachLevel.WARNING: clock.warning_notified_at,
        }
        if level is not BreachLevel.OK and told[level] is None:
            alerts.append(SlaAlert(kind=clock.kind, level=level, due_at=clock.due_at))
    return alerts


def mark_notified(incident: Incident, alerts: list[SlaAlert], at: datetime) -> Incident:
    """Remember each threshold told, so the next sweep is silent; a breach implies its warning."""
    update: dict[str, SlaClock] = {}
    for alert in alerts:
        field = f"{alert.kind.value}_sla"
        clock: SlaClock = update.get(field) or getattr(incident, field)
        marks = {"warning_notified_at": clock.warning_notified_at or at}
        if alert.level is BreachLevel.BREACHED:
            marks["breach_notified_at"] = at
        update[field] = clock.model_copy(update=marks)
    return incident.model_copy(update=update)


def _owned(incident: Incident, actor: str, at: datetime) -> Incident:
    """Taking ownership answers the response target (once)."""
    if incident.acknowledged_at is not None:
        return incident.model_copy(update={"assignee": incident.assignee or actor})
    return incident.model_copy(
        update={
            "assignee": actor,
            "acknowledged_at": at,
            "response_sla": _map(incident.response_sla, lambda c: stop_clock(c, at)),
        }
    )


def _priority(incident: Incident) -> Priority:
    if incident.priority is None:
        raise ValueError(f"{incident.number} has not been prioritized yet")
    return incident.priority


def _map(clock: SlaClock | None, change: Callable[[SlaClock], SlaClock]) -> SlaClock | None:
    return None if clock is None else change(clock)


def _both_clocks(
    incident: Incident, change: Callable[[SlaClock], SlaClock]
) -> dict[str, SlaClock | None]:
    return {
        "response_sla": _map(incident.response_sla, change),
        "resolution_sla": _map(incident.resolution_sla, change),
    }


# The step each transition command takes: one entry per IncidentCommand, so that a new
# transition is its command (domain/incident.py), its entry here, its flow and its CLI verb.
STEPS: dict[type[IncidentCommand], Callable[[Incident, Any, IncidentPolicy, datetime], Change]] = {
    AcknowledgeIncident: lambda i, c, _policy, at: acknowledge(i, c.actor, at),
    StartIncidentWork: lambda i, c, _policy, at: start_work(i, c.actor, at),
    PendIncident: lambda i, c, policy, at: pend(i, policy, c.actor, at, c.reason),
    ResumeIncident: lambda i, c, policy, at: resume(i, policy, c.actor, at),
    EscalateIncident: lambda i, c, policy, at: escalate(
        i, policy, c.kind, c.actor, at, c.reason, c.to_group
    ),
    ResolveIncident: lambda i, c, _policy, at: resolve(i, c.actor, at, c.code, c.notes),
    CloseIncident: lambda i, c, _policy, at: close(i, c.actor, at, c.note),
    ReopenIncident: lambda i, c, policy, at: reopen(i, policy, c.actor, at, c.reason),
}


def carry_out(
    command: IncidentCommand,
    incident: Incident,
    policy: IncidentPolicy,
    at: datetime,
    known: Provenance,
) -> Change:
    """The change `command` makes to `incident`, its actor `known` through that channel:
    IllegalTransition when the table does not allow it, UnverifiedActor when the policy
    wants the step from a verified channel and the actor was a name typed into a form."""
    wanted = policy.verified_only.intersection(command.actions)
    if wanted and not known.verified:
        raise UnverifiedActor(incident.number, command.label.lower(), command.actor)
    change = STEPS[type(command)](incident, command, policy, at)
    return change.model_copy(update={"audit": change.audit.known_through(known)})


def allows(incident: Incident, command: type[IncidentCommand]) -> bool:
    """Whether the transition table lets that kind of command act on `incident` now."""
    return any((incident.state, action) in TRANSITIONS for action in command.actions)


def next_steps(incident: Incident) -> list[type[IncidentCommand]]:
    """The transitions a person can take now, in the order the buttons and links show them:
    those the transition table allows from the incident's state, less acknowledging an
    incident someone already owns (legal, and a no-op)."""
    return [
        command
        for command in STEPS
        if allows(incident, command)
        and not (command is AcknowledgeIncident and incident.acknowledged_at is not None)
    ]
