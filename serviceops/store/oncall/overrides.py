"""Overrides of on-call rotations: added, withdrawn, and read for an instant or a period."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from serviceops.domain.oncall import Override
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

    def current(self, after: datetime, group: str | None = None) -> list[Override]:
        """Every override that ends after `after` (now and to come), oldest first; one
        group's when `group` is given."""
        query = select(OverrideRecord).where(OverrideRecord.ends_at > after)
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
