"""Store <-> domain mapping: repositories take a Session and speak pydantic models only.

The session's lifecycle stays with the caller (`with sessions.begin() as session:
IncidentRepository(session).get(...)`), so one transaction can span several repositories and a
task decides where it commits. ORM records never leave this module: every method returns
domain models, built from the row at the moment of the call.
"""

# IncidentRepository.list shadows the builtin in its class body; postponed annotations keep
# the later `-> list[Incident]` annotations meaning the builtin.
from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, insert, or_, select
from sqlalchemy.orm import Session

from serviceops.domain.categories import clean_category
from serviceops.domain.incident import (
    OPEN_STATES,
    Incident,
    IncidentDraft,
    IncidentState,
    KnownErrorMatch,
    ResolutionCode,
    SlaClock,
    SlaKind,
    Source,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.problem import KnownError, symptom_words
from serviceops.store.records import AuditRecord, IncidentRecord, KnownErrorRecord

__all__ = [
    "MAX_ROW_ID",
    "AuditRepository",
    "IncidentRepository",
    "KnownErrorRepository",
    "RecordNotFound",
]

MAX_ROW_ID = 2**31 - 1
"""The largest row id on every backend, so the largest record number (INC-2147483647): ids
are SQL INTEGER, 32 bits on PostgreSQL. Past it a number names no record and an offset skips
every row, and the database refuses to compare an INTEGER column with such a value (the
drivers refuse anything past 64 bits), so callers refuse them before asking."""

_SLA_FIELDS = (
    "started_at",
    "due_at",
    "warn_at",
    "paused_at",
    "stopped_at",
    "warning_notified_at",
    "breach_notified_at",
)
_OPEN_STATE_VALUES = sorted(state.value for state in OPEN_STATES)


class RecordNotFound(LookupError):
    """No record with that number: callers turn it into a 404 or a CLI error, not a crash."""

    def __init__(self, kind: str, number: str) -> None:
        super().__init__(f"no {kind} {number}")
        self.kind, self.number = kind, number


def _seconds(value: timedelta) -> int:
    """Clock durations are whole seconds in the database; sub-second SLA precision is noise."""
    return round(value.total_seconds())


# --------------------------------------------------------------------------- incidents


def _clock_from_row(row: IncidentRecord, kind: SlaKind) -> SlaClock | None:
    """A clock exists when its target is set; the other columns of that kind describe it."""
    target_s: int | None = getattr(row, f"{kind.value}_target_s")
    if target_s is None:
        return None
    remaining_s: int | None = getattr(row, f"{kind.value}_remaining_s")
    values: dict[str, Any] = {name: getattr(row, f"{kind.value}_{name}") for name in _SLA_FIELDS}
    return SlaClock(
        kind=kind,
        target=timedelta(seconds=target_s),
        remaining=timedelta(seconds=target_s if remaining_s is None else remaining_s),
        **values,
    )


def _clock_to_row(row: IncidentRecord, kind: SlaKind, clock: SlaClock | None) -> None:
    """Write one clock (or its absence: every column of that kind null) onto the row."""
    if clock is not None and clock.kind is not kind:
        raise ValueError(f"a {clock.kind.value} clock given as the {kind.value} clock")
    setattr(row, f"{kind.value}_target_s", None if clock is None else _seconds(clock.target))
    setattr(row, f"{kind.value}_remaining_s", None if clock is None else _seconds(clock.remaining))
    for name in _SLA_FIELDS:
        setattr(row, f"{kind.value}_{name}", None if clock is None else getattr(clock, name))


def _incident_from_row(row: IncidentRecord) -> Incident:
    if row.number is None:  # only between the two flushes of IncidentRepository.add
        raise RuntimeError(f"incident row {row.id} has no number yet")
    known_error = (
        None
        if row.known_error_number is None
        else KnownErrorMatch(
            number=row.known_error_number,
            title=row.known_error_title or "",
            workaround=row.workaround or "",
        )
    )
    return Incident(
        number=row.number,
        title=row.title,
        description=row.description,
        service=row.service,
        ci=row.ci,
        category=row.category,
        impact=Impact(row.impact),
        urgency=Urgency(row.urgency),
        priority=None if row.priority is None else Priority(row.priority),
        reporter=row.reporter,
        source=Source(row.source),
        state=IncidentState(row.state),
        major=row.major,
        category_corrected=row.category_corrected,
        support_group=row.support_group,
        assignee=row.assignee,
        known_error=known_error,
        resolution_code=(
            None if row.resolution_code is None else ResolutionCode(row.resolution_code)
        ),
        resolution_notes=row.resolution_notes,
        pending_reason=row.pending_reason,
        response_sla=_clock_from_row(row, SlaKind.RESPONSE),
        resolution_sla=_clock_from_row(row, SlaKind.RESOLUTION),
        created_at=row.created_at,
        updated_at=row.updated_at,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        escalation_count=row.escalation_count,
        major_channel=row.major_channel,
        last_status_update_at=row.last_status_update_at,
    )


def _incident_to_row(incident: Incident, row: IncidentRecord) -> None:
    """Every field but the number and created_at, which are fixed when the incident is logged."""
    row.title = incident.title
    row.description = incident.description
    row.service = incident.service
    row.ci = incident.ci
    row.category = incident.category
    row.category_corrected = incident.category_corrected
    row.impact = incident.impact.value
    row.urgency = incident.urgency.value
    row.priority = None if incident.priority is None else int(incident.priority)
    row.reporter = incident.reporter
    row.source = incident.source.value
    row.state = incident.state.value
    row.major = incident.major
    row.support_group = incident.support_group
    row.assignee = incident.assignee
    match = incident.known_error
    row.known_error_number = None if match is None else match.number
    row.known_error_title = None if match is None else match.title
    row.workaround = None if match is None else match.workaround
    code = incident.resolution_code
    row.resolution_code = None if code is None else code.value
    row.resolution_notes = incident.resolution_notes
    row.pending_reason = incident.pending_reason
    row.updated_at = incident.updated_at
    row.acknowledged_at = incident.acknowledged_at
    row.resolved_at = incident.resolved_at
    row.closed_at = incident.closed_at
    row.reopen_count = incident.reopen_count
    row.escalation_count = incident.escalation_count
    row.major_channel = incident.major_channel
    row.last_status_update_at = incident.last_status_update_at
    _clock_to_row(row, SlaKind.RESPONSE, incident.response_sla)
    _clock_to_row(row, SlaKind.RESOLUTION, incident.resolution_sla)


def _clock_needs_notice(kind: SlaKind, now: datetime) -> ColumnElement[bool]:
    """A running clock whose warning or breach instant has passed and was not announced yet.

    `warn_at <= now` leads both branches because a clock always warns no later than it falls
    due (sla._due_and_warning); it is what lets the database walk the warn_at index and
    touch only the few clocks past their warning instant, not every open incident. A paused
    clock has no warn_at, so it never matches.
    """
    column = IncidentRecord.__table__.c
    warn_at, due_at = column[f"{kind.value}_warn_at"], column[f"{kind.value}_due_at"]
    return and_(
        warn_at <= now,
        column[f"{kind.value}_stopped_at"].is_(None),
        or_(
            column[f"{kind.value}_warning_notified_at"].is_(None),
            and_(due_at <= now, column[f"{kind.value}_breach_notified_at"].is_(None)),
        ),
    )


class IncidentRepository:
    """Incidents by number (INC-000042); the caller owns the session and its transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, draft: IncidentDraft, at: datetime) -> Incident:
        """Log a new incident. The number comes from the row id, so it needs one flush to
        learn the id and a second to store the number; both happen inside the caller's
        transaction, so a rollback leaves no numberless row behind."""
        row = IncidentRecord(
            title=draft.title,
            description=draft.description,
            service=draft.service,
            ci=draft.ci,
            category=draft.category,
            category_corrected=False,
            impact=draft.impact.value,
            urgency=draft.urgency.value,
            priority=None,
            reporter=draft.reporter,
            source=draft.source.value,
            state=IncidentState.NEW.value,
            major=draft.major,
            created_at=at,
            updated_at=at,
            reopen_count=0,
            escalation_count=0,
        )
        self.session.add(row)
        self.session.flush()
        row.number = f"INC-{row.id:06d}"
        self.session.flush()
        return _incident_from_row(row)

    def get(self, number: str, *, for_update: bool = False) -> Incident:
        """The incident as stored now. `for_update` locks the row until the caller's
        transaction ends (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer anyway)
        and re-reads it even when this session has it cached, so read-decide-save is safe
        against a concurrent flow run."""
        statement = select(IncidentRecord).where(IncidentRecord.number == number)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        row = self.session.scalars(statement).one_or_none()
        if row is None:
            raise RecordNotFound("incident", number)
        return _incident_from_row(row)

    def save(self, incident: Incident) -> Incident:
        """Write the model back onto its row (flushed, so a constraint error surfaces here)."""
        row = self.session.scalars(
            select(IncidentRecord).where(IncidentRecord.number == incident.number)
        ).one_or_none()
        if row is None:
            raise RecordNotFound("incident", incident.number)
        _incident_to_row(incident, row)
        self.session.flush()
        return _incident_from_row(row)

    def list(
        self,
        *,
        state: IncidentState | None = None,
        priority: Priority | None = None,
        service: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Incident]:
        """Newest first: by created_at, then by id for incidents logged in the same instant."""
        statement = select(IncidentRecord)
        if state is not None:
            statement = statement.where(IncidentRecord.state == IncidentState(state).value)
        if priority is not None:
            statement = statement.where(IncidentRecord.priority == int(priority))
        if service is not None:
            statement = statement.where(IncidentRecord.service == service)
        statement = (
            statement.order_by(IncidentRecord.created_at.desc(), IncidentRecord.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return self._incidents(statement)

    def sla_due(self, now: datetime, limit: int = 1000) -> list[Incident]:
        """Open incidents with a response or resolution clock to warn or breach about.

        One query; each OR branch is led by a range on an indexed warn_at column. When few
        clocks are past their warning instant, PostgreSQL combines the two warn_at indexes
        (BitmapOr); when most are (an old backlog, already announced), it and SQLite scan
        instead, which is the cheaper plan then. Measured over 100,000 open incidents: 20-50 ms
        for the query and the mapping of ~550 due incidents on either backend.

        The caller decides which notice each clock needs (SlaClock.level) and records it in
        warning_notified_at / breach_notified_at, which takes the incident out of the next
        sweep; `limit` bounds one pass, oldest incidents first.
        """
        statement = (
            select(IncidentRecord)
            .where(
                or_(
                    _clock_needs_notice(SlaKind.RESPONSE, now),
                    _clock_needs_notice(SlaKind.RESOLUTION, now),
                ),
                IncidentRecord.state.in_(_OPEN_STATE_VALUES),
            )
            .order_by(IncidentRecord.id)
            .limit(limit)
        )
        return self._incidents(statement)

    def open_major_needing_update(self, now: datetime, cadence: timedelta) -> list[Incident]:
        """Open major incidents whose stakeholders have not had a status update for `cadence`."""
        statement = (
            select(IncidentRecord)
            .where(
                IncidentRecord.major.is_(True),
                IncidentRecord.state.in_(_OPEN_STATE_VALUES),
                or_(
                    IncidentRecord.last_status_update_at.is_(None),
                    IncidentRecord.last_status_update_at <= now - cadence,
                ),
            )
            .order_by(IncidentRecord.id)
        )
        return self._incidents(statement)

    def _incidents(self, statement: Any) -> list[Incident]:
        rows: Sequence[IncidentRecord] = self.session.scalars(statement).all()
        return [_incident_from_row(row) for row in rows]


# --------------------------------------------------------------------------- audit trail


class AuditRepository:
    """The append-only trail: rows are added, never changed."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> None:
        self.session.add(
            AuditRecord(
                record=entry.record,
                action=entry.action,
                actor=entry.actor,
                at=entry.at,
                from_state=entry.from_state,
                to_state=entry.to_state,
                reason=entry.reason,
                flow_run_id=entry.flow_run_id,
            )
        )

    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        """Many rows in one statement (a correlation batch audits hundreds of alerts)."""
        if entries:
            self.session.execute(insert(AuditRecord), [entry.model_dump() for entry in entries])

    def for_record(self, record: str) -> list[AuditEntry]:
        """Oldest first by id: insertion order, which two entries at the same instant keep."""
        rows = self.session.scalars(
            select(AuditRecord).where(AuditRecord.record == record).order_by(AuditRecord.id)
        ).all()
        return [_audit_from_row(row) for row in rows]

    def records_of_flow_run(self, flow_run_id: str) -> list[str]:
        """What a flow run touched, in the order it first touched each record."""
        first = func.min(AuditRecord.id)
        rows = self.session.execute(
            select(AuditRecord.record, first)
            .where(AuditRecord.flow_run_id == flow_run_id)
            .group_by(AuditRecord.record)
            .order_by(first)
        ).all()
        return [record for record, _ in rows]


def _audit_from_row(row: AuditRecord) -> AuditEntry:
    return AuditEntry(
        record=row.record,
        action=row.action,
        actor=row.actor,
        at=row.at,
        from_state=row.from_state,
        to_state=row.to_state,
        reason=row.reason,
        flow_run_id=row.flow_run_id,
    )


# --------------------------------------------------------------------------- known errors


class KnownErrorRepository:
    """The known error database (KEDB) that initial diagnosis matches incidents against.

    Known errors are retired (`deactivate`), never deleted: incidents keep pointing at them.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, known_error: KnownError) -> KnownError:
        """Record a known error; the store numbers it (KE-000001), the incoming number is
        ignored so that callers cannot collide on numbers they made up. `created_at` is kept
        when given (raise_known_error sets it), else it is now."""
        row = KnownErrorRecord(
            title=known_error.title,
            service=known_error.service,
            ci=known_error.ci,
            affected_cis=list(known_error.affected_cis),
            problem_number=known_error.problem_number,
            category=known_error.category,
            symptom=known_error.symptom,
            root_cause=known_error.root_cause,
            workaround=known_error.workaround,
            active=True,
            created_at=known_error.created_at or datetime.now(UTC),
        )
        self.session.add(row)
        self.session.flush()
        row.number = f"KE-{row.id:06d}"
        self.session.flush()
        return _known_error_from_row(row)

    def get(self, number: str) -> KnownError:
        return _known_error_from_row(self._row(number))

    def is_active(self, number: str) -> bool:
        return self._row(number).active

    def candidates(
        self, service: str, ci: str | None = None, *, category: str | None = None
    ) -> list[KnownError]:
        """Active known errors that could fit an incident on `service` (and `ci`): its
        service's, those that apply to any service, and those whose `ci` or `affected_cis`
        name the incident's CI. With `category`, only those whose category is unset or a
        prefix of it (exactly the category rule of matching, done in SQL: fewer rows to load).
        domain.problem.match_known_errors ranks them (and drops a known error that names CIs
        but no service when the incident is on another CI).

        The service and ci branches use their indexes. affected_cis is a JSON list, which
        neither backend can index portably: the query keeps rows whose JSON text contains the
        CI's JSON string (a superset: SQLite's LIKE ignores ASCII case) and Python keeps those
        where it really is an element. That branch reads every active row, which is cheap at
        KEDB sizes (bench/kedb_match.py: 10,000 known errors).
        """
        column = KnownErrorRecord.__table__.c
        scope = [KnownErrorRecord.service == service, KnownErrorRecord.service.is_(None)]
        if ci is not None:
            scope.append(KnownErrorRecord.ci == ci)
            scope.append(
                cast(column.affected_cis, Text).like(f"%{_like_escape(json.dumps(ci))}%", "\\")
            )
        statement = select(KnownErrorRecord).where(KnownErrorRecord.active.is_(True), or_(*scope))
        if category is not None:
            prefixes = _category_prefixes(clean_category(category))
            statement = statement.where(
                or_(KnownErrorRecord.category.is_(None), KnownErrorRecord.category.in_(prefixes))
            )
        rows = self.session.scalars(statement.order_by(KnownErrorRecord.id)).all()
        return [
            _known_error_from_row(row)
            for row in rows
            if row.service in (service, None) or (ci is not None and _names_ci(row, ci))
        ]

    def search(self, text: str, *, limit: int = 20) -> list[KnownError]:
        """Active known errors whose title or symptom share words with `text`, most words in
        common first, then newest (`serviceops kedb search TEXT`).

        Words are compared as matching does (symptom_words: any script, case-folded), which
        SQL LIKE cannot do portably, so the titles and symptoms of the active known errors are
        read and scored in Python, and only the best `limit` rows are loaded in full.
        """
        wanted = symptom_words(text)
        if not wanted or limit <= 0:
            return []
        rows = self.session.execute(
            select(KnownErrorRecord.id, KnownErrorRecord.title, KnownErrorRecord.symptom).where(
                KnownErrorRecord.active.is_(True)
            )
        ).all()
        scored = []
        for row_id, title, symptom in rows:
            common = len(wanted & symptom_words(f"{title} {symptom}"))
            if common:
                scored.append((-common, -row_id))
        best = [-row_id for _, row_id in heapq.nsmallest(limit, scored)]
        if not best:
            return []
        found = {
            row.id: row
            for row in self.session.scalars(
                select(KnownErrorRecord).where(KnownErrorRecord.id.in_(best))
            )
        }
        return [_known_error_from_row(found[row_id]) for row_id in best]

    def list(
        self, *, active: bool | None = True, limit: int = 100, offset: int = 0
    ) -> list[KnownError]:
        """Newest first. `active`: True (the default) the active ones, False the retired
        ones, None all."""
        statement = select(KnownErrorRecord)
        if active is not None:
            statement = statement.where(KnownErrorRecord.active.is_(active))
        rows = self.session.scalars(
            statement.order_by(KnownErrorRecord.id.desc()).limit(limit).offset(offset)
        ).all()
        return [_known_error_from_row(row) for row in rows]

    def deactivate(self, number: str) -> KnownError:
        """Retire a known error (its problem is resolved, or it was wrong): matching stops
        offering it. Retiring a retired one changes nothing."""
        row = self._row(number, for_update=True)
        row.active = False
        self.session.flush()
        return _known_error_from_row(row)

    def set_workaround(self, number: str, workaround: str) -> KnownError:
        """Replace the workaround (domain.problem.record_workaround on a known error):
        incidents diagnosed from now on are offered the new one."""
        row = self._row(number, for_update=True)
        row.workaround = workaround
        self.session.flush()
        return _known_error_from_row(row)

    def _row(self, number: str, *, for_update: bool = False) -> KnownErrorRecord:
        statement = select(KnownErrorRecord).where(KnownErrorRecord.number == number)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        row = self.session.scalars(statement).one_or_none()
        if row is None:
            raise RecordNotFound("known error", number)
        return row


def _like_escape(value: str) -> str:
    """A LIKE pattern matching `value` literally (backslash is the escape character)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _category_prefixes(category: str) -> list[str]:
    """'a/b/c' -> ['a', 'a/b', 'a/b/c']: the known error categories that contain it."""
    parts = category.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def _names_ci(row: KnownErrorRecord, ci: str) -> bool:
    return row.ci == ci or ci in (row.affected_cis or [])


def _known_error_from_row(row: KnownErrorRecord) -> KnownError:
    if row.number is None:
        raise RuntimeError(f"known error row {row.id} has no number yet")
    return KnownError(
        number=row.number,
        title=row.title,
        service=row.service,
        ci=row.ci,
        affected_cis=list(row.affected_cis or []),
        category=row.category,
        symptom=row.symptom,
        root_cause=row.root_cause,
        workaround=row.workaround,
        problem_number=row.problem_number,
        created_at=row.created_at,
    )
