"""Silences: numbered on their first save, read active by every correlation batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from serviceops.domain.event import Silence, SilenceDraft, SilenceState
from serviceops.store.base import numbered_row
from serviceops.store.event.tables import SilenceRecord

_FIELDS = ("ci", "service", "check", "reason", "owner", "ends_at", "extensions", "created_at")


def silence_number(row_id: int) -> str:
    return f"SIL-{row_id:06d}"


class SilenceRepository:
    """The caller owns the session and its transaction, as everywhere in the store."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, draft: SilenceDraft, at: datetime) -> Silence:
        """A new active silence from `at`, numbered from its id."""
        row = SilenceRecord(
            state=SilenceState.ACTIVE.value, extensions=0, created_at=at, updated_at=at
        )
        for name in ("ci", "service", "check", "reason", "owner", "ends_at"):
            setattr(row, name, getattr(draft, name))
        self.session.add(row)
        self.session.flush()
        row.number = silence_number(row.id)
        self.session.flush()
        return _silence(row)

    def save(self, silence: Silence) -> Silence:
        row = self._row(silence.number, for_update=False)
        row.state, row.ends_at = silence.state.value, silence.ends_at
        row.extensions, row.updated_at = silence.extensions, silence.updated_at
        self.session.flush()
        return _silence(row)

    def get(self, number: str, *, for_update: bool = False) -> Silence:
        return _silence(self._row(number, for_update=for_update))

    def active(self, at: datetime) -> list[Silence]:
        """The silences in force at `at`, oldest first (the partial index on active ones). A
        silence is in force from its creation: one a clock a little ahead created is too."""
        rows = self.session.scalars(
            select(SilenceRecord)
            .where(SilenceRecord.state == SilenceState.ACTIVE.value, SilenceRecord.ends_at > at)
            .order_by(SilenceRecord.id)
        )
        return [_silence(row) for row in rows]

    def active_version(self) -> tuple[int, int | None, datetime | None]:
        """What changes when a silence is added, changed or lifted: count, highest id and
        latest update of the active ones (no created_at filter: what the version counts is
        what `active` reads)."""
        return tuple(  # type: ignore[return-value]
            self.session.execute(
                select(
                    func.count(), func.max(SilenceRecord.id), func.max(SilenceRecord.updated_at)
                ).where(SilenceRecord.state == SilenceState.ACTIVE.value)
            ).one()
        )

    def ended(self, at: datetime) -> list[Silence]:
        """Active silences whose end has come: to expire, letting go of what they hold."""
        rows = self.session.scalars(
            select(SilenceRecord)
            .where(SilenceRecord.state == SilenceState.ACTIVE.value, SilenceRecord.ends_at <= at)
            .order_by(SilenceRecord.id)
            .with_for_update()
        )
        return [_silence(row) for row in rows]

    def list(
        self, *, state: SilenceState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Silence]:
        """Newest first."""
        statement = (
            select(SilenceRecord).order_by(SilenceRecord.id.desc()).limit(limit).offset(offset)
        )
        if state is not None:
            statement = statement.where(SilenceRecord.state == state.value)
        return [_silence(row) for row in self.session.scalars(statement)]

    def _row(self, number: str, *, for_update: bool) -> SilenceRecord:
        return numbered_row(self.session, SilenceRecord, "silence", number, for_update=for_update)


def _silence(row: SilenceRecord) -> Silence:
    if row.number is None:  # only between the two statements that add one
        raise RuntimeError(f"silence row {row.id} has no number yet")
    return Silence(
        number=row.number,
        state=SilenceState(row.state),
        updated_at=row.updated_at,
        **{name: getattr(row, name) for name in _FIELDS},
    )
