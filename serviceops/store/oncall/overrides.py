"""Overrides of on-call rotations: added, withdrawn, and read for an instant or a period."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from serviceops.domain.oncall import Override, override_number
from serviceops.store.base import RecordNotFound
from serviceops.store.oncall.tables import OverrideRecord


class OverrideRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, override: Override, at: datetime) -> Override:
        row = OverrideRecord(
            group_name=override.group,
            layer=override.layer,
            person=override.person,
            starts_at=override.starts_at,
            ends_at=override.ends_at,
            reason=override.reason,
            created_by=override.created_by,
            created_at=at,
        )
        self.session.add(row)
        self.session.flush()
        return _from_row(row)

    def cancel(self, override_id: int, at: datetime) -> Override:
        """Withdraw an override (from now on it covers nobody); RecordNotFound if unknown."""
        row = self.session.get(OverrideRecord, override_id, with_for_update=True)
        if row is None or row.cancelled_at is not None:
            raise RecordNotFound("override", override_number(override_id))
        row.cancelled_at = at
        return _from_row(row)

    def current(self, after: datetime, group: str | None = None) -> list[Override]:
        """Every override not withdrawn that ends after `after` (now and to come), oldest
        first; one group's when `group` is given."""
        query = select(OverrideRecord).where(
            OverrideRecord.ends_at > after, OverrideRecord.cancelled_at.is_(None)
        )
        if group is not None:
            query = query.where(OverrideRecord.group_name == group)
        rows = self.session.scalars(query.order_by(OverrideRecord.id))
        return [_from_row(row) for row in rows]


def _from_row(row: OverrideRecord) -> Override:
    return Override(
        id=row.id,
        group=row.group_name,
        layer=row.layer,
        person=row.person,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
    )
