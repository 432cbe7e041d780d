"""Changes: numbered on their first save; read by window for the schedule of change, by state
for the maintenance windows, by CI for initial diagnosis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from serviceops.domain.change import (
    PLANNED_STATES,
    Change,
    ChangeApproval,
    ChangeDraft,
    ChangeKind,
    ChangeState,
    RequiredApproval,
    Risk,
)
from serviceops.store.base import numbered_row
from serviceops.store.change.tables import ChangeRecord

# Fields a save writes back; the draft's own (what, where, how) stay as logged, but a new
# window given at scheduling moves the planned start and end.
_SAVED = (
    "state",
    "planned_start",
    "planned_end",
    "approval_round",
    "conflicts",
    "flow_run_id",
    "started_at",
    "implemented_at",
    "outcome",
    "review_summary",
    "reviewed_at",
    "closed_at",
    "updated_at",
)
_PLAIN = (
    "title",
    "description",
    "cis",
    "template",
    "planned_start",
    "planned_end",
    "implementation_plan",
    "backout_plan",
    "requester",
    "approval_round",
    "conflicts",
    "flow_run_id",
    "started_at",
    "implemented_at",
    "outcome",
    "review_summary",
    "reviewed_at",
    "closed_at",
    "created_at",
    "updated_at",
)


def change_number(row_id: int) -> str:
    return f"CHG-{row_id:06d}"


class ChangeRepository:
    """The caller owns the session and its transaction, as everywhere in the store."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, draft: ChangeDraft, at: datetime) -> Change:
        """A new change, in state new, numbered from its id."""
        row = ChangeRecord(
            kind=draft.kind.value,
            risk=draft.risk.value,
            state=ChangeState.NEW.value,
            approvals_required=[],
            approvals=[],
            approval_round=0,
            conflicts=[],
            created_at=at,
            updated_at=at,
            **{name: getattr(draft, name) for name in type(draft).model_fields if name in _PLAIN},
        )
        self.session.add(row)
        self.session.flush()
        row.number = change_number(row.id)
        self.session.flush()
        return _change(row)

    def save(self, change: Change) -> Change:
        row = self._row(change.number, for_update=False)
        for name in _SAVED:
            value = getattr(change, name)
            setattr(row, name, value.value if name == "state" else value)
        row.approvals_required = [r.model_dump(mode="json") for r in change.approvals_required]
        row.approvals = [a.model_dump(mode="json") for a in change.approvals]
        self.session.flush()
        return _change(row)

    def get(self, number: str, *, for_update: bool = False) -> Change:
        return _change(self._row(number, for_update=for_update))

    def overlapping(self, start: datetime, end: datetime) -> list[Change]:
        """Planned changes (assessed, in approval, scheduled, implementing) whose window
        overlaps `start`-`end`: what the schedule of change checks a window against."""
        rows = self.session.scalars(
            select(ChangeRecord)
            .where(
                ChangeRecord.planned_start < end,
                ChangeRecord.planned_end > start,
                ChangeRecord.state.in_([state.value for state in PLANNED_STATES]),
            )
            .order_by(ChangeRecord.id)
        )
        return [_change(row) for row in rows]

    def implementing(self) -> list[Change]:
        rows = self.session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.state == ChangeState.IMPLEMENTING.value)
            .order_by(ChangeRecord.id)
        )
        return [_change(row) for row in rows]

    def implementing_version(self) -> tuple[int, int | None, datetime | None]:
        """What changes when a change starts or stops implementing: count, highest id and
        latest update of the implementing ones (the maintenance windows' cache key)."""
        return tuple(  # type: ignore[return-value]
            self.session.execute(
                select(
                    func.count(), func.max(ChangeRecord.id), func.max(ChangeRecord.updated_at)
                ).where(ChangeRecord.state == ChangeState.IMPLEMENTING.value)
            ).one()
        )

    def recent(self, cis: set[str], since: datetime, until: datetime) -> list[Change]:
        """Changes on any of `cis` that were implementing within `since`-`until` (started
        before its end and not finished before its start): what initial diagnosis of an
        incident lists. Newest first."""
        rows = self.session.scalars(
            select(ChangeRecord)
            .where(
                ChangeRecord.started_at.is_not(None),
                ChangeRecord.started_at <= until,
                or_(ChangeRecord.implemented_at.is_(None), ChangeRecord.implemented_at >= since),
            )
            .order_by(ChangeRecord.id.desc())
        )
        return [change for change in map(_change, rows) if cis & set(change.cis)]

    def between(self, start: datetime, end: datetime) -> list[Change]:
        """Every change, of any state, whose window overlaps `start`-`end`, by planned start:
        the calendar."""
        rows = self.session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.planned_start < end, ChangeRecord.planned_end > start)
            .order_by(ChangeRecord.planned_start, ChangeRecord.id)
        )
        return [_change(row) for row in rows]

    def list(
        self,
        *,
        state: ChangeState | None = None,
        ci: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Change]:
        """Newest first; `ci` filters on a CI the change touches."""
        statement = select(ChangeRecord).order_by(ChangeRecord.id.desc())
        if state is not None:
            statement = statement.where(ChangeRecord.state == state.value)
        if ci is None:
            rows = self.session.scalars(statement.limit(limit).offset(offset))
            return [_change(row) for row in rows]
        matching = [c for c in map(_change, self.session.scalars(statement)) if ci in c.cis]
        return matching[offset : offset + limit]

    def _row(self, number: str, *, for_update: bool) -> ChangeRecord:
        return numbered_row(self.session, ChangeRecord, "change", number, for_update=for_update)


def _change(row: ChangeRecord) -> Change:
    if row.number is None:  # only between the two statements that add one
        raise RuntimeError(f"change row {row.id} has no number yet")
    fields: dict[str, Any] = {name: getattr(row, name) for name in _PLAIN}
    return Change(
        number=row.number,
        kind=ChangeKind(row.kind),
        risk=Risk(row.risk),
        state=ChangeState(row.state),
        approvals_required=[RequiredApproval.model_validate(r) for r in row.approvals_required],
        approvals=[ChangeApproval.model_validate(a) for a in row.approvals],
        **fields,
    )
