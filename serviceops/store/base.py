"""What every table and repository of the store shares: the declarative base (aware UTC
datetimes on every backend, named constraints), the largest row id, the not-found error."""

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    DateTime,
    MetaData,
    TypeDecorator,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Session


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the offset, so it is put back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Named constraints: Alembic can only drop or alter a constraint it can name, and SQLite's batch
# mode (table copy) needs the names to carry them over. Index names stay SQLAlchemy's default.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


MAX_ROW_ID = 2**31 - 1
"""The largest row id on every backend, so the largest record number (INC-2147483647): ids
are SQL INTEGER, 32 bits on PostgreSQL. Past it a number names no record and an offset skips
every row, and the database refuses to compare an INTEGER column with such a value (the
drivers refuse anything past 64 bits), so callers refuse them before asking."""


class RecordNotFound(LookupError):
    """No record with that number: callers turn it into a 404 or a CLI error, not a crash."""

    def __init__(self, kind: str, number: str) -> None:
        super().__init__(f"no {kind} {number}")
        self.kind, self.number = kind, number


RowT = TypeVar("RowT", bound=Base)


def numbered_row(
    session: Session, table: type[RowT], kind: str, number: str, *, for_update: bool
) -> RowT:
    """The row of record `number` (a `number` column), fresh from the database, locked for
    the caller's transaction with `for_update`; RecordNotFound(kind, number) when none."""
    statement = select(table).where(table.number == number)  # type: ignore[attr-defined]
    if for_update:
        statement = statement.with_for_update()
    row = session.scalars(statement.execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise RecordNotFound(kind, number)
    return row
