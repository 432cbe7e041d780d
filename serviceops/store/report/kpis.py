"""The facts the operations report is computed from: a few column queries per period.

Columns, not ORM objects: a weekly report touches thousands of incidents and needs a dozen
values of each, and the store's records never leave this package anyway. Counts that need no
per-row rule (events, problems, known errors, the stage breakdown) are counted by the
database; per-incident rules (SLA met, first line, ...) are domain formulas
(serviceops.domain.report.kpi), so the store only says what happened, never what it means.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from serviceops.domain.event import SilenceState
from serviceops.domain.incident import IncidentAction
from serviceops.domain.report import (
    EventFacts,
    IncidentFacts,
    KpiFacts,
    PagedFacts,
    PageFacts,
    ProblemFacts,
    ReportPeriod,
    RequestFacts,
)
from serviceops.store.audit import AuditRecord
from serviceops.store.event.tables import AlertRecord, EventRecord, SilenceRecord
from serviceops.store.incident.tables import IncidentRecord
from serviceops.store.oncall.tables import PageRecord
from serviceops.store.problem.tables import KnownErrorRecord, ProblemRecord
from serviceops.store.request.tables import ServiceRequestRecord


def _within(column: Any, period: ReportPeriod) -> ColumnElement[bool]:
    """The half-open period [start, end) on one timestamp column (NULL is never in it)."""
    return and_(column >= period.start, column < period.end)


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


class KpiRepository:
    """Reads the facts of one report period; the caller owns the session and its transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def facts(self, period: ReportPeriod) -> KpiFacts:
        return KpiFacts(
            period=period,
            incidents=self.incidents(period),
            stages=self.stages(period),
            requests=self.requests(period),
            events=self.events(period),
            problems=self.problems(period),
            known_errors_added=self.known_errors_added(period),
            pages=self.pages(period),
        )

    def incidents(self, period: ReportPeriod) -> list[IncidentFacts]:
        """Incidents logged or resolved in the period, or whose response or resolution clock
        stopped in it (acknowledged today, logged last week), oldest first.

        Functional escalations come from the audit trail, because escalation_count also
        counts the hierarchic ones (management told, e.g. by the SLA sweep on a breach), which
        say nothing about an incident being with the wrong group.
        """
        row = IncidentRecord
        functional = (
            select(func.count(AuditRecord.id))
            .where(
                AuditRecord.record == row.number,
                AuditRecord.action == IncidentAction.ESCALATE_FUNCTIONAL.value,
            )
            .scalar_subquery()
        )
        statement = (
            select(
                row.number,
                row.priority,
                row.major,
                row.support_group,
                row.category_corrected,
                row.reopen_count,
                functional.label("functional_escalations"),
                row.created_at,
                row.resolved_at,
                row.response_due_at,
                row.response_stopped_at,
                row.response_remaining_s,
                row.resolution_due_at,
                row.resolution_stopped_at,
                row.resolution_remaining_s,
            )
            .where(
                row.number.is_not(None),
                or_(
                    _within(row.created_at, period),
                    _within(row.resolved_at, period),
                    _within(row.response_stopped_at, period),
                    _within(row.resolution_stopped_at, period),
                ),
            )
            .order_by(row.id)
        )
        return [
            IncidentFacts(
                number=r.number,
                priority=r.priority,
                major=r.major,
                support_group=r.support_group,
                category_corrected=r.category_corrected,
                reopen_count=r.reopen_count,
                functional_escalations=r.functional_escalations,
                created_at=r.created_at,
                resolved_at=r.resolved_at,
                response_due_at=r.response_due_at,
                response_stopped_at=r.response_stopped_at,
                response_remaining=_seconds(r.response_remaining_s),
                resolution_due_at=r.resolution_due_at,
                resolution_stopped_at=r.resolution_stopped_at,
                resolution_remaining=_seconds(r.resolution_remaining_s),
            )
            for r in self.session.execute(statement)
        ]

    def stages(self, period: ReportPeriod) -> dict[str, int]:
        """Incidents open at some time in the period (logged before its end, not resolved
        before its start), counted by their state at its end.

        The state column is the state at the end unless the incident changed since (every
        change sets updated_at); only for those few the audit trail's last row before the end
        says what it was (falling back to the state now for an incident with no trail).
        A reopened incident has no resolved_at, so one resolved before the period and reopened
        after it is counted too, in its state at the end (resolved).
        """
        row = IncidentRecord
        trail_state = (
            select(AuditRecord.to_state)
            .where(AuditRecord.record == row.number, AuditRecord.at < period.end)
            .order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        stage = case(
            (row.updated_at < period.end, row.state),
            else_=func.coalesce(trail_state, row.state),
        )
        # Grouped in an outer query: PostgreSQL does not see a CASE with bound parameters in
        # GROUP BY as the same expression as in the select list.
        touched = (
            select(stage.label("stage"))
            .where(
                row.created_at < period.end,
                or_(row.resolved_at.is_(None), row.resolved_at >= period.start),
            )
            .subquery()
        )
        counted = select(touched.c.stage, func.count()).group_by(touched.c.stage)
        return {stage: count for stage, count in self.session.execute(counted)}

    def requests(self, period: ReportPeriod) -> list[RequestFacts]:
        """Service requests due in the period or fulfilled in it, oldest first."""
        row = ServiceRequestRecord
        statement = (
            select(row.number, row.state, row.due_at, row.fulfilled_at)
            .where(
                row.number.is_not(None),
                or_(_within(row.due_at, period), _within(row.fulfilled_at, period)),
            )
            .order_by(row.id)
        )
        return [
            RequestFacts(
                number=r.number, state=r.state, due_at=r.due_at, fulfilled_at=r.fulfilled_at
            )
            for r in self.session.execute(statement)
        ]

    def events(self, period: ReportPeriod) -> EventFacts:
        """Events received in the period, how many were correlated into an alert, how many
        into an alert that raised an incident, and how many distinct incidents that was."""
        statement = (
            select(
                func.count(EventRecord.id),
                func.count(EventRecord.alert_number),
                func.count(AlertRecord.incident_number),
                func.count(distinct(AlertRecord.incident_number)),
            )
            .select_from(EventRecord)
            .outerjoin(AlertRecord, AlertRecord.number == EventRecord.alert_number)
            .where(_within(EventRecord.received_at, period))
        )
        received, correlated, became_incident, incidents = self.session.execute(statement).one()
        symptoms = self.session.scalar(
            select(func.coalesce(func.sum(AlertRecord.symptoms), 0)).where(
                _within(AlertRecord.first_event_at, period)
            )
        )
        return EventFacts(
            received=received,
            correlated=correlated,
            became_incident=became_incident,
            incidents=incidents,
            symptoms=symptoms or 0,
            silence_windows=self._silence_windows(period),
        )

    def _silence_windows(self, period: ReportPeriod) -> list[tuple[datetime, datetime]]:
        """(start, end) of every silence in force at some time in the period: a lifted one
        ended when it was lifted (its last change), the others at their end."""
        silence = SilenceRecord
        ended = case(
            (silence.state == SilenceState.LIFTED.value, silence.updated_at),
            else_=silence.ends_at,
        )
        rows = self.session.execute(
            select(silence.created_at, ended).where(
                silence.created_at < period.end, ended > period.start
            )
        ).all()
        return [(start, end) for start, end in rows]

    def problems(self, period: ReportPeriod) -> ProblemFacts:
        """Problems opened in the period, closed in it, and open at its end (logged before
        the end and not closed before it)."""
        row = ProblemRecord
        open_at_end = and_(
            row.created_at < period.end,
            or_(row.closed_at.is_(None), row.closed_at >= period.end),
        )
        statement = select(
            func.count(case((_within(row.created_at, period), 1))),
            func.count(case((_within(row.closed_at, period), 1))),
            func.count(case((open_at_end, 1))),
        )
        opened, closed, still_open = self.session.execute(statement).one()
        return ProblemFacts(opened=opened, closed=closed, open_at_end=still_open)

    def known_errors_added(self, period: ReportPeriod) -> int:
        """Known errors created in the period (the KEDB's growth)."""
        statement = select(func.count(KnownErrorRecord.id)).where(
            _within(KnownErrorRecord.created_at, period)
        )
        return int(self.session.execute(statement).scalar_one())

    def pages(self, period: ReportPeriod) -> list[PageFacts]:
        """Pages opened in the period with their incident's priority, oldest first."""
        statement = (
            select(
                PageRecord.number,
                PageRecord.group_name,
                IncidentRecord.priority,
                PageRecord.opened_at,
                PageRecord.acknowledged_at,
                PageRecord.paged,
            )
            .join(IncidentRecord, IncidentRecord.number == PageRecord.incident, isouter=True)
            .where(_within(PageRecord.opened_at, period))
            .order_by(PageRecord.opened_at, PageRecord.id)
        )
        return [
            PageFacts(
                number=row.number or "",
                group=row.group_name,
                priority=row.priority,
                opened_at=row.opened_at,
                acknowledged_at=row.acknowledged_at,
                paged=[PagedFacts.model_validate(step) for step in row.paged or []],
            )
            for row in self.session.execute(statement)
        ]
