"""CatalogueRepository and CheckRunRepository on SQLite and PostgreSQL: a catalogue replaced
and read back as it was, a reload that drops items, and the check history's latest result,
history and previous status."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.cmdb import (
    DEFAULT_SCHEDULES,
    Catalogue,
    CheckKind,
    CheckResult,
    CheckStatus,
    NetworkPolicy,
)
from serviceops.store.base import RecordNotFound
from serviceops.store.cmdb import CatalogueRepository, CheckRunRepository
from serviceops.store.cmdb.tables import CheckDefinitionRecord

Sessions = sessionmaker[Session]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _catalogue(**changes: Any) -> Catalogue:
    document: dict[str, Any] = {
        "items": [
            {
                "name": "shop",
                "type": "application",
                "owner_group": "web",
                "tier": 1,
                "description": "The web shop.",
                "depends_on": ["shop-db"],
                "endpoints": [
                    {"url": "https://shop.example.com/health", "contains": "ok"},
                    {"url": "tcp://shop.example.com:22"},
                ],
            },
            {"name": "shop-db", "type": "database", "owner_group": "dba", "tier": 2},
            {"name": "wiki", "owner_group": "it", "tier": 3},
        ],
        "checks": [
            {"kind": "disk", "name": "db-disk", "service": "shop-db", "path": "/var/lib/pg"},
            {
                "kind": "database",
                "name": "db-select",
                "service": "shop",
                "ci": "shop-db",
                "url": "postgresql://app:s3cret@db:5432/shop",
            },
        ],
        "network": {"allow_hosts": ["status.example.com"], "allow_private": False},
        "schedules": {"http": 60},
    }
    return Catalogue.model_validate(document | changes)


def _by_name(catalogue: Catalogue) -> tuple[list[Any], list[Any]]:
    """Items and checks in name order: the store gives them back by name, not file order."""
    items = sorted(catalogue.items, key=lambda item: item.name)
    checks = sorted(catalogue.all_checks(), key=lambda check: check.name)
    return items, checks


def test_an_empty_database_gives_an_empty_catalogue_with_defaults(sessions: Sessions) -> None:
    with sessions.begin() as session:
        repository = CatalogueRepository(session)
        catalogue = repository.catalogue()
        assert repository.loaded() is None
        assert repository.items() == [] and repository.checks() == []
    assert catalogue.items == [] and catalogue.checks == []
    assert catalogue.network == NetworkPolicy()
    assert catalogue.schedules == DEFAULT_SCHEDULES


def test_replace_then_read_back(sessions: Sessions) -> None:
    written = _catalogue()
    with sessions.begin() as session:
        CatalogueRepository(session).replace(written, T0, "cmdb.toml")

    with sessions.begin() as session:
        repository = CatalogueRepository(session)
        read = repository.catalogue()
        assert repository.loaded() == ("cmdb.toml", T0)
        assert [item.name for item in repository.items()] == ["shop", "shop-db", "wiki"]
        assert repository.item("shop") == written.item("shop")
        with pytest.raises(RecordNotFound, match="no configuration item nope"):
            repository.item("nope")
        assert repository.check("db-select") == next(
            c for c in written.checks if c.name == "db-select"
        )
        with pytest.raises(RecordNotFound):
            repository.check("nope")
        stored_checks = repository.checks()
        derived = session.scalars(
            select(CheckDefinitionRecord.name)
            .where(CheckDefinitionRecord.derived)
            .order_by(CheckDefinitionRecord.name)
        ).all()

    assert _by_name(read) == _by_name(written)
    assert sorted(c.name for c in read.checks) == ["db-disk", "db-select"], "declared only"
    assert read.network == written.network
    assert read.schedules == written.schedules
    assert read.schedules[CheckKind.HTTP] == 60
    assert stored_checks == _by_name(written)[1]
    assert list(derived) == ["shop-http", "shop-tcp", "shop-tls"]


def test_replace_removes_what_the_file_dropped_and_updates_the_rest(sessions: Sessions) -> None:
    with sessions.begin() as session:
        CatalogueRepository(session).replace(_catalogue(), T0, "old.toml")
        CatalogueRepository(session).catalogue()  # rows now in this session's identity map

    smaller = _catalogue(
        items=[
            {"name": "shop", "owner_group": "web-team", "tier": 2, "depends_on": ["shop-db"]},
            {"name": "shop-db", "type": "database", "owner_group": "dba", "tier": 2},
            {"name": "intranet", "owner_group": "it", "tier": 3},
        ],
        checks=[{"kind": "disk", "name": "db-disk", "service": "shop-db", "path": "/data"}],
        network={},
        schedules={},
    )
    later = T0 + timedelta(hours=1)
    with sessions.begin() as session:
        repository = CatalogueRepository(session)
        before = repository.item("shop")
        repository.replace(smaller, later, "new.toml")
        # the same session sees the new rows, not the ones it loaded before
        assert repository.item("shop").owner_group == "web-team" != before.owner_group

    with sessions.begin() as session:
        repository = CatalogueRepository(session)
        read = repository.catalogue()
        assert repository.loaded() == ("new.toml", later)
        rows = session.scalar(select(func.count()).select_from(CheckDefinitionRecord))

    assert [item.name for item in read.items] == ["intranet", "shop", "shop-db"]
    assert read.item("shop").tier == 2 and read.item("shop").endpoints == []
    assert [(c.name, c.path) for c in read.checks] == [("db-disk", "/data")]  # type: ignore[union-attr]
    assert read.all_checks() == read.checks, "shop lost its endpoints and their checks"
    assert rows == 1
    assert read.network == NetworkPolicy()
    assert read.schedules == DEFAULT_SCHEDULES


def test_replacing_with_an_empty_catalogue_empties_it(sessions: Sessions) -> None:
    with sessions.begin() as session:
        CatalogueRepository(session).replace(_catalogue(), T0, "cmdb.toml")
        CatalogueRepository(session).replace(Catalogue(), T0, "empty.toml")
    with sessions.begin() as session:
        assert CatalogueRepository(session).catalogue().items == []
        assert CatalogueRepository(session).checks() == []


# --------------------------------------------------------------------------- check runs


def _result(check: str, status: CheckStatus, at: datetime, **more: Any) -> CheckResult:
    return CheckResult(
        check=check,
        kind=CheckKind.HTTP,
        service="shop",
        ci="shop",
        target=f"https://{check}.example.com/",
        status=status,
        summary=f"{check} {status.value}",
        checked_at=at,
        **more,
    )


OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL


@pytest.fixture
def runs(sessions: Sessions) -> Sessions:
    """a: ok, critical, ok (latest ok); b: warning then critical; c: one ok."""
    with sessions.begin() as session:
        CheckRunRepository(session).add_many(
            [
                _result("a", OK, T0),
                _result("b", WARN, T0),
                _result("a", CRIT, T0 + timedelta(minutes=5), latency_ms=12.5,
                        details={"status_code": 503}),
                _result("c", OK, T0 + timedelta(minutes=7)),
            ]
        )  # fmt: skip
        CheckRunRepository(session).add_many([])
    with sessions.begin() as session:
        CheckRunRepository(session).add_many(
            [
                _result("a", OK, T0 + timedelta(minutes=10)),
                _result("b", CRIT, T0 + timedelta(minutes=10)),
            ]
        )
    return sessions


def test_latest_is_the_newest_result_of_each_check(runs: Sessions) -> None:
    with runs.begin() as session:
        latest = CheckRunRepository(session).latest()
        only_a = CheckRunRepository(session).latest(["a", "zzz"])
    assert [(r.check, r.status, r.checked_at) for r in latest] == [
        ("a", OK, T0 + timedelta(minutes=10)),
        ("b", CRIT, T0 + timedelta(minutes=10)),
        ("c", OK, T0 + timedelta(minutes=7)),
    ]
    assert [r.check for r in only_a] == ["a"]


def test_a_tie_on_the_instant_goes_to_the_later_row(sessions: Sessions) -> None:
    with sessions.begin() as session:
        CheckRunRepository(session).add_many([_result("a", OK, T0), _result("a", CRIT, T0)])
    with sessions.begin() as session:
        assert [r.status for r in CheckRunRepository(session).latest()] == [CRIT]


def test_history_is_newest_first_and_limited(runs: Sessions) -> None:
    with runs.begin() as session:
        history = CheckRunRepository(session).history("a")
        two = CheckRunRepository(session).history("a", limit=2)
        none = CheckRunRepository(session).history("nope")
    assert [r.status for r in history] == [OK, CRIT, OK]
    assert [r.checked_at for r in two] == [T0 + timedelta(minutes=10), T0 + timedelta(minutes=5)]
    assert none == []
    failed = history[1]
    assert failed == _result(
        "a", CRIT, T0 + timedelta(minutes=5), latency_ms=12.5, details={"status_code": 503}
    ), "a result comes back exactly as it was recorded"


def test_previous_status_of_the_checks_asked(runs: Sessions) -> None:
    with runs.begin() as session:
        repository = CheckRunRepository(session)
        assert repository.previous_status(["a", "b", "never-ran"]) == {"a": OK, "b": CRIT}
        assert repository.previous_status([]) == {}
