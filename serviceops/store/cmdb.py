"""The catalogue (CMDB) as loaded into the database, and the history of check results.

The file is the source of truth and the database its last loaded copy: flows, the gateway
and the CLI read the copy, so they agree on one catalogue however many hosts they run on, and
nobody needs the file at hand. The caller owns the session and its transaction, as everywhere
in the store.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, aliased

from serviceops.domain.cmdb import Catalogue, Check, CheckResult, CheckStatus, ConfigurationItem
from serviceops.store.db import dialect_insert
from serviceops.store.records import (
    CatalogueSettingsRecord,
    CheckDefinitionRecord,
    CheckRunRecord,
    ConfigurationItemRecord,
)
from serviceops.store.repositories import RecordNotFound

__all__ = ["CatalogueRepository", "CheckRunRepository"]

_SETTINGS_ID = 1
_CHECK = TypeAdapter[Check](Check)
# replace() writes with INSERT .. ON CONFLICT, past the session's identity map: reads refresh
# rows the session may have loaded before, instead of returning them as they were.
_FRESH = {"populate_existing": True}


# --------------------------------------------------------------------------- catalogue


def _item_from_row(row: ConfigurationItemRecord) -> ConfigurationItem:
    return ConfigurationItem.model_validate(
        {
            "name": row.name,
            "type": row.type,
            "owner_group": row.owner_group,
            "tier": row.tier,
            "description": row.description,
            "endpoints": row.endpoints,
            "depends_on": row.depends_on,
        }
    )


class CatalogueRepository:
    """Configuration items, check definitions and catalogue settings, replaced as a whole by
    each load of the catalogue file."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def replace(self, catalogue: Catalogue, at: datetime, source_file: str) -> None:
        """Make the stored catalogue `catalogue`: rows it no longer has are deleted, the
        others updated in place (insert or update in one statement each), so item names that
        incidents and events refer to stay. Check results are history and stay too."""
        items = [
            {
                "name": item.name,
                "type": item.type.value,
                "owner_group": item.owner_group,
                "tier": item.tier,
                "description": item.description,
                "endpoints": [e.model_dump(mode="json") for e in item.endpoints],
                "depends_on": list(item.depends_on),
                "loaded_at": at,
            }
            for item in catalogue.items
        ]
        declared = {check.name for check in catalogue.checks}
        checks = [
            {
                "name": check.name,
                "kind": check.kind,
                "service": check.service,
                "ci": check.ci,
                "derived": check.name not in declared,
                "definition": check.model_dump(mode="json"),
                "loaded_at": at,
            }
            for check in catalogue.all_checks()
        ]
        self._replace_rows(ConfigurationItemRecord, items)
        self._replace_rows(CheckDefinitionRecord, checks)
        settings = {
            "id": _SETTINGS_ID,
            "network": catalogue.network.model_dump(mode="json"),
            "schedules": {kind.value: seconds for kind, seconds in catalogue.schedules.items()},
            "loaded_at": at,
            "source_file": source_file,
        }
        self._upsert(CatalogueSettingsRecord, [settings], key="id")

    def catalogue(self) -> Catalogue:
        """The stored catalogue; an empty database gives an empty one with default settings."""
        settings = self._settings()
        declared = self.session.scalars(
            select(CheckDefinitionRecord.definition)
            .where(CheckDefinitionRecord.derived.is_(False))
            .order_by(CheckDefinitionRecord.name)
        ).all()
        document: dict[str, Any] = {"items": self.items(), "checks": list(declared)}
        if settings is not None:
            document |= {"network": settings.network, "schedules": settings.schedules}
        return Catalogue.model_validate(document)

    def items(self) -> list[ConfigurationItem]:
        """Every item, by name."""
        rows = self.session.scalars(
            select(ConfigurationItemRecord).order_by(ConfigurationItemRecord.name),
            execution_options=_FRESH,
        )
        return [_item_from_row(row) for row in rows]

    def item(self, name: str) -> ConfigurationItem:
        row = self.session.get(ConfigurationItemRecord, name, populate_existing=True)
        if row is None:
            raise RecordNotFound("configuration item", name)
        return _item_from_row(row)

    def checks(self) -> list[Check]:
        """Every check to run (declared and derived from endpoints), by name."""
        definitions = self.session.scalars(
            select(CheckDefinitionRecord.definition).order_by(CheckDefinitionRecord.name)
        )
        return [_CHECK.validate_python(definition) for definition in definitions]

    def check(self, name: str) -> Check:
        row = self.session.get(CheckDefinitionRecord, name, populate_existing=True)
        if row is None:
            raise RecordNotFound("check", name)
        return _CHECK.validate_python(row.definition)

    def loaded(self) -> tuple[str, datetime] | None:
        """The file the stored catalogue came from and when it was loaded; None before any."""
        settings = self._settings()
        return None if settings is None else (settings.source_file, settings.loaded_at)

    def _settings(self) -> CatalogueSettingsRecord | None:
        return self.session.get(CatalogueSettingsRecord, _SETTINGS_ID, populate_existing=True)

    def _replace_rows(
        self, record: type[ConfigurationItemRecord | CheckDefinitionRecord], rows: list[Any]
    ) -> None:
        self.session.execute(
            delete(record).where(record.name.not_in([row["name"] for row in rows]))
        )
        self._upsert(record, rows, key="name")

    def _upsert(self, record: type[Any], rows: list[dict[str, Any]], *, key: str) -> None:
        """INSERT .. ON CONFLICT (key) DO UPDATE: two loads at once cannot collide on a key."""
        if not rows:
            return
        statement = dialect_insert(self.session)(record).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[key],
            set_={column: statement.excluded[column] for column in rows[0] if column != key},
        )
        self.session.execute(statement)


# --------------------------------------------------------------------------- check runs


def _result_from_row(row: CheckRunRecord) -> CheckResult:
    return CheckResult.model_validate(
        {
            "check": row.check,
            "kind": row.kind,
            "service": row.service,
            "ci": row.ci,
            "target": row.target,
            "status": row.status,
            "summary": row.summary,
            "latency_ms": row.latency_ms,
            "details": row.details,
            "checked_at": row.checked_at,
        }
    )


class CheckRunRepository:
    """Check results, appended and never changed: the history of every check."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, results: Sequence[CheckResult]) -> None:
        if not results:
            return
        rows = [
            {
                "check": result.check,
                "kind": result.kind.value,
                "service": result.service,
                "ci": result.ci,
                "target": result.target,
                "status": result.status.value,
                "summary": result.summary,
                "latency_ms": result.latency_ms,
                "details": result.details,
                "checked_at": result.checked_at,
            }
            for result in results
        ]
        self.session.execute(insert(CheckRunRecord), rows)

    def latest(self, checks: Sequence[str] | None = None) -> list[CheckResult]:
        """The newest result of each check (of `checks`, when given), by check name; one query.

        Ties on checked_at go to the later row, so two results of one instant give one answer.
        """
        newest_first = func.row_number().over(
            partition_by=CheckRunRecord.check,
            order_by=(CheckRunRecord.checked_at.desc(), CheckRunRecord.id.desc()),
        )
        ranked = select(CheckRunRecord, newest_first.label("newest"))
        if checks is not None:
            ranked = ranked.where(CheckRunRecord.check.in_(list(checks)))
        subquery = ranked.subquery()
        run = aliased(CheckRunRecord, subquery)
        statement = select(run).where(subquery.c.newest == 1).order_by(run.check)
        return [_result_from_row(row) for row in self.session.scalars(statement)]

    def history(self, check: str, limit: int = 50) -> list[CheckResult]:
        """The last `limit` results of one check, newest first."""
        statement = (
            select(CheckRunRecord)
            .where(CheckRunRecord.check == check)
            .order_by(CheckRunRecord.checked_at.desc(), CheckRunRecord.id.desc())
            .limit(limit)
        )
        return [_result_from_row(row) for row in self.session.scalars(statement)]

    def previous_status(self, checks: Sequence[str]) -> dict[str, CheckStatus]:
        """The latest recorded status of each of `checks` (absent: never run), in one query:
        a run compares with it to tell a new failure from a continuing one and a recovery."""
        if not checks:
            return {}
        return {result.check: result.status for result in self.latest(checks)}
