"""Second-level correlation: events become alerts, and alerts decide what is done.

One alert stands for one condition on one service or CI: the events of a storm on that
resource within the correlation window join it, and so does any later event with a fingerprint
it already carries. An alert's response only climbs (log, notify, remediate, incident), so a
storm raises one incident and a bounded number of messages, however many events it has.

Inhibition through the CMDB: a new alert on an item that needs (directly or through others)
an item with an open exception alert joins that alert as a symptom. It is recorded and counted
as usual, but holds its response back (no incident, no page, no message): the parent's
incident gets a note for it instead. When the parent resolves, a symptom still firing proceeds
on its own, as if it had just fired.

Silences (domain.event.silences) hold a new alert the same way, marked with the silence's
number; an event the silence does not cover lets its alert go, and so does the silence's end
(`release`, from the sweep). An implementing change holds its CIs' alerts as silences of its
own number (domain.change.windows), let go when it leaves implementing.

The correlator is pure and works on what the store loaded for a batch: it decides every event
in order and says which alerts changed and which actions follow. The store writes them back
in one transaction; the actions (incidents, runbooks) run after, from an outbox of their own.
The records it decides (alerts, actions, notices, verdicts) are in alerts.py.
"""

from datetime import datetime

from serviceops.domain.cmdb import Dependencies
from serviceops.domain.event.alerts import (
    Action,
    ActionKind,
    Alert,
    AlertChange,
    AlertState,
    Decisions,
    Notice,
    NoticeKind,
    Verdict,
)
from serviceops.domain.event.record import (
    EventIn,
    EventPolicy,
    EventStatus,
    Response,
    Significance,
    event_time,
)
from serviceops.domain.event.silences import WINDOW_PREFIXES, Silence, SilenceIndex


class Correlator:
    """Decides a batch of events against the alerts the store loaded for it.

    `alerts` are the not-closed alerts on the batch's correlation keys and fingerprints, the
    open exception alerts on what those keys need and the symptoms of all of them; they are
    changed in place (the store built them for this batch), and every alert that changed is in
    Decisions.alerts. `dependencies`: the CMDB's graph, None for no inhibition; `silences`:
    the active ones.
    """

    def __init__(
        self,
        policy: EventPolicy,
        alerts: list[Alert],
        dependencies: Dependencies | None = None,
        silences: SilenceIndex | None = None,
    ) -> None:
        self.policy = policy
        self.dependencies = dependencies
        self.silences = silences
        self.decisions = Decisions()
        self._index: dict[int, int] = {}  # id(alert) -> position in decisions.alerts
        self._by_fingerprint: dict[str, Alert] = {}
        self._by_key: dict[str, Alert] = {}
        self._updates: dict[int, Action] = {}
        self._symptoms: dict[int, list[Alert]] = {}  # id(parent) -> its symptoms
        self._outages: dict[str, list[Alert]] = {}  # key -> its exception alerts
        for alert in sorted(alerts, key=lambda a: a.last_event_at):
            self._remember(alert)
        by_number = {alert.number: alert for alert in alerts if alert.number is not None}
        for alert in alerts:
            parent = by_number.get(alert.suppressed_by or "")
            if parent is not None:
                self._symptoms.setdefault(id(parent), []).append(alert)

    def decide(self, event: EventIn, received_at: datetime) -> Verdict:
        at = event_time(event, received_at)
        significance = self.policy.significance(event)
        response, runbook = self.policy.response(event, significance)
        verdict = Verdict(
            fingerprint=event.fingerprint, significance=significance, response=response
        )
        if self.policy.dropped(event):
            verdict.dropped, verdict.response = True, Response.LOG
        elif event.status is EventStatus.RESOLVED:
            self._resolve(event, at, verdict)
        else:
            self._fire(event, at, verdict, runbook)
        self.decisions.verdicts.append(verdict)
        return verdict

    def _fire(self, event: EventIn, at: datetime, verdict: Verdict, runbook: str | None) -> None:
        alert = self._alert_for(event, at)
        reopened = alert is not None and alert.state is AlertState.RESOLVED
        if alert is not None and reopened:
            alert = self._after_resolution(alert, event, at)
        if alert is None:
            parent = self._inhibitor(event.resource)
            # A window over the event beats a parent that is held itself (a symptom of a
            # switch under change is the change's: it is marked with the change's number).
            silence = None if parent is not None and not parent.held else self._silence_for(event)
            parent = None if silence is not None else parent
            alert = self._open(event, at, verdict, runbook, parent, silence)
            if not alert.held:
                self._respond(alert, event.summary, _note(event), escalated=False)
            return
        position = self._touch(alert, at, verdict)
        fingerprint = verdict.fingerprint
        if fingerprint in alert.firing:
            verdict.duplicate = True
            alert.duplicate_count += 1
            return
        alert.firing.append(fingerprint)
        if fingerprint not in alert.fingerprints:
            alert.fingerprints.append(fingerprint)
        self._by_fingerprint[fingerprint] = alert
        if verdict.significance.rank > alert.significance.rank:
            alert.significance = verdict.significance
            self._note_outage(alert)
        if verdict.response.rank > alert.response.rank:
            raised = alert.response.raises_incident
            alert.response, alert.runbook = verdict.response, runbook or alert.runbook
            self._respond(alert, event.summary, _note(event), escalated=True, raised=raised)
        elif not reopened and alert.response.raises_incident:
            self._act(ActionKind.UPDATE_INCIDENT, position, note=_note(event))
        silence = alert.suppressed_by or ""
        if silence.startswith(WINDOW_PREFIXES) and not (
            self.silences is not None and self.silences.covers(silence, event)
        ):
            self._proceed(alert, f"{event.check} on {event.resource} is not under {silence}", at)

    def _resolve(self, event: EventIn, at: datetime, verdict: Verdict) -> None:
        alert = self._by_fingerprint.get(verdict.fingerprint)
        if alert is None or verdict.fingerprint not in alert.firing:
            verdict.response = Response.LOG  # nothing open for it: logged, nothing to do
            return
        position = self._touch(alert, at, verdict)
        alert.firing.remove(verdict.fingerprint)
        verdict.response = alert.response
        if alert.firing or alert.state is not AlertState.OPEN:
            return
        alert.state, alert.resolved_at = AlertState.RESOLVED, at
        self._change(position, AlertState.OPEN, alert, at, f"resolved: {event.summary}")
        self._notify(NoticeKind.RESOLVED, alert, position, f"resolved: {event.summary}")
        if self.policy.auto_resolve and alert.response.raises_incident:
            self._act(ActionKind.RESOLVE_INCIDENT, position, note=_note(event))
        self._release_symptoms(alert, at)

    def _alert_for(self, event: EventIn, at: datetime) -> Alert | None:
        """The alert carrying this fingerprint, else the open alert on its resource if its
        last event is within the correlation window."""
        alert = self._by_fingerprint.get(event.fingerprint)
        if alert is not None:
            return alert
        alert = self._by_key.get(event.resource)
        window = self.policy.correlation_window
        if (
            alert is not None
            and alert.state is AlertState.OPEN
            and at - alert.last_event_at <= window
        ):
            return alert
        return None

    def _after_resolution(self, alert: Alert, event: EventIn, at: datetime) -> Alert | None:
        """A firing after resolution: reopen the alert (and its incident), or close it as
        superseded and let a new one open, by policy."""
        position = self._position(alert)
        if self.policy.after_resolution == "reopen":
            alert.state, alert.resolved_at = AlertState.OPEN, None
            alert.reopen_count += 1
            self._change(position, AlertState.RESOLVED, alert, at, f"firing: {event.summary}")
            self._notify(NoticeKind.REOPENED, alert, position, f"firing again: {event.summary}")
            if alert.incident_number is not None or alert.response.raises_incident:
                self._act(ActionKind.REOPEN_INCIDENT, position, note=_note(event))
            return alert
        alert.state, alert.closed_at = AlertState.CLOSED, at
        self._change(position, AlertState.RESOLVED, alert, at, "superseded by a new alert")
        self._release_symptoms(alert, at)
        for fingerprint in alert.fingerprints:
            if self._by_fingerprint.get(fingerprint) is alert:
                del self._by_fingerprint[fingerprint]
        if self._by_key.get(alert.key) is alert:
            del self._by_key[alert.key]
        return None

    def _open(
        self,
        event: EventIn,
        at: datetime,
        verdict: Verdict,
        runbook: str | None,
        parent: Alert | None,
        silence: Silence | None,
    ) -> Alert:
        """A new alert; with a `parent`, as its symptom (held, noted on the parent's incident);
        under a `silence`, held by it."""
        alert = Alert(
            key=event.resource,
            service=event.service,
            ci=event.ci,
            title=event.summary,
            significance=verdict.significance,
            response=verdict.response,
            runbook=runbook,
            firing=[verdict.fingerprint],
            fingerprints=[verdict.fingerprint],
            first_event_at=at,
            last_event_at=at,
        )
        self._remember(alert)
        position = self._touch(alert, at, verdict)
        reason = f"{verdict.significance.value}: {event.summary}"
        if parent is not None:
            reason += f" (a symptom of {parent.number or 'the alert'} on {parent.key})"
            self._join(alert, position, parent, event.summary)
        elif silence is not None:
            reason += f" (silenced by {silence.number}: {silence.reason})"
            alert.suppressed_by = silence.number
        self._change(position, None, alert, at, reason)
        return alert

    def _inhibitor(self, resource: str, *, free_only: bool = False) -> Alert | None:
        """The open exception alert on an item `resource` needs, if any: the one that is no
        symptom itself, then the oldest; with `free_only`, only one that nothing holds (an
        alert let go must not become a symptom of its own symptom when items need each
        other). Every open one counts, not only the newest alert on the item (a later warning
        there must not hide its outage)."""
        if self.dependencies is None:
            return None
        candidates = [
            alert
            for name in self.dependencies.needs(resource)
            for alert in self._outages.get(name, ())
            if alert.state is AlertState.OPEN
            and alert.significance is Significance.EXCEPTION
            and not (free_only and alert.held)
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda a: (a.held, a.first_event_at, a.key))

    def _silence_for(self, event: EventIn) -> Silence | None:
        return None if self.silences is None else self.silences.covering(event)

    def _join(self, alert: Alert, position: int, parent: Alert, summary: str) -> None:
        parent.symptoms += 1
        parent_position = self._position(parent)
        alert.suppressed_by = parent.number or ""  # the store names a parent new in the batch
        self._symptoms.setdefault(id(parent), []).append(alert)
        self.decisions.symptom_of[position] = parent_position
        if parent.response.raises_incident:
            note = f"symptom: {alert.key}: {summary} ({parent.symptoms} so far)"
            self._act(ActionKind.ADD_SYMPTOM, parent_position, note=note)

    def _release_symptoms(self, parent: Alert, at: datetime) -> None:
        """The parent's outage is over: its symptoms are let go (see _proceed)."""
        why = f"{parent.number or parent.key} is over"
        for alert in self._symptoms.pop(id(parent), []):
            if alert.held:
                self._proceed(alert, why, at)

    def release(self, alerts: list[Alert], why: str, at: datetime) -> None:
        """What held these alerts is gone (a silence ended): see _proceed."""
        for alert in alerts:
            if alert.held:
                self._proceed(alert, why, at)

    def _proceed(self, alert: Alert, why: str, at: datetime) -> None:
        """Let a held alert go: still firing, it proceeds as if it had just fired (its
        response, now), unless something else holds it now (another outage it is a symptom
        of, another silence over its CI or service); cleared meanwhile, it has nothing to do."""
        alert.suppressed_by = None
        position = self._position(alert)
        self.decisions.symptom_of.pop(position, None)
        if alert.state is not AlertState.OPEN or not alert.firing:
            return
        parent = self._inhibitor(alert.key, free_only=True)
        if parent is not None:
            self._join(alert, position, parent, alert.title)
            reason = f"a symptom of {parent.number or parent.key} now: {why}"
            self._change(position, AlertState.OPEN, alert, at, reason)
            return
        silence = (
            None if self.silences is None else self.silences.covering_alert(alert.ci, alert.service)
        )
        if silence is not None:
            alert.suppressed_by = silence.number
            reason = f"silenced by {silence.number} now: {why}"
            self._change(position, AlertState.OPEN, alert, at, reason)
            return
        self._change(position, AlertState.OPEN, alert, at, f"proceeds on its own: {why}")
        note = f"{alert.title} (held until {why}, still firing)"
        self._respond(alert, alert.title, note, escalated=False)

    def _respond(
        self, alert: Alert, summary: str, note: str, *, escalated: bool, raised: bool = False
    ) -> None:
        """Act on the response the alert has reached; `raised`: it had reached an incident
        before (climbing on to page pages that incident instead of raising another)."""
        position = self._position(alert)
        kind = NoticeKind.ESCALATED if escalated else NoticeKind.OPENED
        response, runbook = alert.response, alert.runbook
        if response is Response.NOTIFY:
            self._notify(kind, alert, position, summary)
        elif response is Response.REMEDIATE:
            self._notify(kind, alert, position, f"{summary} (runbook {runbook})")
            self._act(ActionKind.RUN_RUNBOOK, position, note=note, runbook=runbook)
        elif response.raises_incident and alert.incident_number is None and not raised:
            self._act(ActionKind.RAISE_INCIDENT, position, note=note)
        elif response is Response.PAGE:
            self._act(ActionKind.PAGE_INCIDENT, position, note=note)

    def _touch(self, alert: Alert, at: datetime, verdict: Verdict) -> int:
        alert.event_count += 1
        alert.last_event_at = max(alert.last_event_at, at)
        position = self._position(alert)
        verdict.alert_key = position
        return position

    def _notify(self, kind: NoticeKind, alert: Alert, position: int, summary: str) -> None:
        """Within the notify limit; a storm's later notices are counted on the alert only.
        A held alert (a symptom) says nothing."""
        if alert.held or alert.notified >= self.policy.notify_limit:
            return
        alert.notified += 1
        self.decisions.notices.append(
            Notice(kind=kind, alert_key=position, ordinal=alert.notified, summary=summary)
        )

    def _change(
        self, position: int, from_state: AlertState | None, alert: Alert, at: datetime, reason: str
    ) -> None:
        self.decisions.changes.append(
            AlertChange(
                alert_key=position,
                from_state=from_state,
                to_state=alert.state,
                at=at,
                reason=reason,
            )
        )

    def _act(
        self, kind: ActionKind, position: int, *, note: str, runbook: str | None = None
    ) -> None:
        """Queue an action; updates to one incident within a batch become one action. A held
        alert (a symptom) asks for nothing."""
        if self.decisions.alerts[position].held:
            return
        if kind is ActionKind.UPDATE_INCIDENT:
            pending = self._updates.get(position)
            if pending is not None:
                pending.count += 1
                pending.note = note
                return
        action = Action(kind=kind, alert_key=position, note=note, runbook=runbook)
        if kind is ActionKind.UPDATE_INCIDENT:
            self._updates[position] = action
        self.decisions.actions.append(action)

    def _remember(self, alert: Alert) -> None:
        self._by_key[alert.key] = alert
        for fingerprint in alert.fingerprints:
            self._by_fingerprint[fingerprint] = alert
        self._note_outage(alert)

    def _note_outage(self, alert: Alert) -> None:
        """An exception alert is an outage its item's dependents may be symptoms of."""
        if alert.significance is Significance.EXCEPTION:
            outages = self._outages.setdefault(alert.key, [])
            if all(known is not alert for known in outages):
                outages.append(alert)

    def _position(self, alert: Alert) -> int:
        """Where the alert sits in decisions.alerts, added on its first change."""
        position = self._index.get(id(alert))
        if position is None:
            position = len(self.decisions.alerts)
            self.decisions.alerts.append(alert)
            self._index[id(alert)] = position
        return position


def _note(event: EventIn) -> str:
    return f"{event.severity.value} {event.source}/{event.check}: {event.summary}"
