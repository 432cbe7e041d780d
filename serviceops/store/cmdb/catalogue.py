"""The catalogue as last loaded: its items, checks and settings, replaced whole on a load."""

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from serviceops.domain.cmdb import (
    Catalogue,
    Check,
    ConfigurationItem,
    Dependencies,
    FreezePeriod,
)
from serviceops.store.base import RecordNotFound
from serviceops.store.cmdb.tables import (
    CatalogueSettingsRecord,
    CheckDefinitionRecord,
    ConfigurationItemRecord,
)
from serviceops.store.db import dialect_insert

_SETTINGS_ID = 1
# The last dependency graph read, by database and catalogue load: see dependencies().
_GRAPHS: dict[tuple[str, datetime], Dependencies] = {}
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
            "oncall": [schedule.model_dump(mode="json") for schedule in catalogue.oncall],
            "freezes": [freeze.model_dump(mode="json") for freeze in catalogue.freezes],
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
            document |= {
                "network": settings.network,
                "schedules": settings.schedules,
                "oncall": settings.oncall or [],
                "freezes": settings.freezes or [],
            }
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

    def owner_groups(self, names: list[str]) -> dict[str, str]:
        """Each named item's owner group; names the catalogue lacks are left out."""
        rows = self.session.execute(
            select(ConfigurationItemRecord.name, ConfigurationItemRecord.owner_group).where(
                ConfigurationItemRecord.name.in_(names)
            )
        ).all()
        return {name: group for name, group in rows}

    def freezes(self) -> list[FreezePeriod]:
        """The freeze periods of the last load, none before any."""
        settings = self._settings()
        stored = [] if settings is None else settings.freezes or []
        return [FreezePeriod.model_validate(freeze) for freeze in stored]

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

    def dependencies(self) -> Dependencies:
        """The items' depends_on graph, read once per load of the catalogue (event correlation
        asks for it every batch, and a CMDB may have thousands of items)."""
        loaded = self.loaded()
        if loaded is None:
            return Dependencies({})
        key = (self.session.get_bind().url.render_as_string(), loaded[1])
        graph = _GRAPHS.get(key)
        if graph is None:
            rows = self.session.execute(
                select(ConfigurationItemRecord.name, ConfigurationItemRecord.depends_on)
            ).all()
            graph = Dependencies({name: needed for name, needed in rows})
            _GRAPHS.clear()  # the newest load only (one database a process, tests aside)
            _GRAPHS[key] = graph
        return graph

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
