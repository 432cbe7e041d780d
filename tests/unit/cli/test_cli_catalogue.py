"""`serviceops services` and `serviceops checks`: load the catalogue file (the repository's
default one too), list and show it, as text and as the stable --json documents."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app
from serviceops.cli import runs as cli_runs
from serviceops.domain.cmdb import CheckKind, CheckResult, CheckStatus
from serviceops.settings import get_settings
from serviceops.store.cmdb import CheckRunRepository
from serviceops.store.db import sessions_for
from tests.unit.cli.support import _json, _ok
from tests.unit.gateway_support import closed_port_url

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_ITEMS = [
    "mail", "mx-1", "orders-db", "prefect-server", "printing", "serviceops-database",
    "serviceops-gateway", "shop",
]  # fmt: skip

SMALL = """
[[items]]
name = "shop"
owner_group = "web"
tier = 1
depends_on = ["shop-db"]
endpoints = [{ url = "https://shop.example.com/" }]

[[items]]
name = "shop-db"
type = "database"
owner_group = "dba"
tier = 3
"""


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[CliRunner]:
    """The CLI on the fixture database, reading the repository's cmdb.toml by default, with
    no Prefect API to reach (another test on this worker may have left the harness running
    with a log-incident deployment); its cached engine is disposed afterwards so no pooled
    connection outlives the test schema."""
    monkeypatch.setattr(cli_runs, "api_url", closed_port_url)
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("SERVICEOPS_CMDB_FILE", str(ROOT / "cmdb.toml"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
    sessions_for(database_url).kw["bind"].dispose()
    sessions_for.cache_clear()


def test_load_the_default_file_then_list(cli: CliRunner) -> None:
    loaded = _json(cli.invoke(app, ["services", "load", "--json"]))
    assert loaded["source_file"] == str(ROOT / "cmdb.toml")
    assert loaded["items"] == len(DEFAULT_ITEMS) and loaded["removed"] == []
    assert loaded["added"] == DEFAULT_ITEMS
    assert loaded["checks"] == 4
    assert loaded["incident_form"] is None  # no Prefect server here

    listed = _json(cli.invoke(app, ["services", "list", "--json"]))
    assert set(listed) == {"services", "count", "source_file", "loaded_at"}
    assert listed["count"] == len(DEFAULT_ITEMS)
    database = next(s for s in listed["services"] if s["name"] == "serviceops-database")
    assert database["dependents"] == ["serviceops-gateway"]
    assert database["blast_radius"] == "medium"

    text = _ok(cli.invoke(app, ["services", "list"]))
    assert text.splitlines()[0].split()[:5] == ["name", "type", "tier", "owner", "impact"]
    assert text.rstrip().endswith(f"{len(DEFAULT_ITEMS)} service(s)")


def test_reload_reports_what_changed(cli: CliRunner, tmp_path: Path) -> None:
    _ok(cli.invoke(app, ["services", "load"]))
    small = tmp_path / "small.toml"
    small.write_text(SMALL)
    text = _ok(cli.invoke(app, ["services", "load", "--file", str(small)]))
    assert text.startswith(f"loaded 2 item(s) and 2 check(s) from {small}")
    assert "added: shop-db\n" in text
    assert f"removed: {', '.join(name for name in DEFAULT_ITEMS if name != 'shop')}" in text
    assert text.rstrip().endswith("housekeeping updates it within a minute")
    names = [s["name"] for s in _json(cli.invoke(app, ["services", "list", "--json"]))["services"]]
    assert names == ["shop", "shop-db"]


def test_show_with_dependents_blast_radius_and_checks(
    cli: CliRunner, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    small = tmp_path / "small.toml"
    small.write_text(SMALL)
    _ok(cli.invoke(app, ["services", "load", "--file", str(small)]))

    document = _json(cli.invoke(app, ["services", "show", "shop-db", "--json"]))
    assert set(document) == {"service", "checks"}
    assert document["service"]["dependents"] == ["shop"]
    assert document["service"]["blast_radius"] == "high"
    assert document["checks"] == []

    shop = _json(cli.invoke(app, ["services", "show", "shop", "--json"]))
    assert [c["name"] for c in shop["checks"]] == ["shop-http", "shop-tls"]

    text = _ok(cli.invoke(app, ["services", "show", "shop-db"]))
    assert text.startswith("shop-db\n")
    assert "dependents    shop" in text and "blast radius  high" in text


def test_show_unknown_exits_1(cli: CliRunner) -> None:
    _ok(cli.invoke(app, ["services", "load"]))
    result = cli.invoke(app, ["services", "show", "nope"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no service nope"


def test_a_bad_file_is_one_line_naming_the_field_and_changes_nothing(
    cli: CliRunner, tmp_path: Path
) -> None:
    _ok(cli.invoke(app, ["services", "load"]))
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace("tier = 3", "tier = 7"))
    result = cli.invoke(app, ["services", "load", "--file", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: items[1] (shop-db).tier")
    assert "Traceback" not in result.output
    assert _json(cli.invoke(app, ["services", "list", "--json"]))["count"] == len(DEFAULT_ITEMS)


def test_checks_list_with_latest_status(cli: CliRunner, sessions: sessionmaker[Session]) -> None:
    _ok(cli.invoke(app, ["services", "load"]))
    at = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    with sessions.begin() as session:
        CheckRunRepository(session).add_many(
            [
                CheckResult(
                    check="state-disk",
                    kind=CheckKind.DISK,
                    service="serviceops-database",
                    target=".serviceops",
                    status=CheckStatus.WARNING,
                    summary="85% used",
                    checked_at=at,
                )
            ]
        )

    document = _json(cli.invoke(app, ["checks", "list", "--json"]))
    assert set(document) == {"checks", "count"}
    checks = {check["name"]: check for check in document["checks"]}
    assert list(checks) == [
        "prefect-server-http",
        "serviceops-gateway-http",
        "state-database",
        "state-disk",
    ]
    assert checks["state-disk"]["latest"]["status"] == "warning"
    assert checks["state-disk"]["kind"] == "disk"
    assert checks["serviceops-gateway-http"]["target"] == "http://127.0.0.1:8080/healthz"
    assert checks["serviceops-gateway-http"]["latest"] is None

    warning = _json(cli.invoke(app, ["checks", "list", "--status", "warning", "--json"]))
    assert [check["name"] for check in warning["checks"]] == ["state-disk"]

    lines = _ok(cli.invoke(app, ["checks", "list"])).splitlines()
    assert lines[0].split() == ["name", "kind", "target", "status", "when", "summary"]
    disk = next(line for line in lines if line.startswith("state-disk"))
    assert "warning" in disk and "2025-03-03 09:00 UTC" in disk and "85% used" in disk
    assert "not run" in next(line for line in lines if line.startswith("prefect-server-http"))
    assert lines[-1] == "4 check(s)"


def test_an_empty_catalogue_says_how_to_load_one(cli: CliRunner) -> None:
    assert "serviceops services load" in _ok(cli.invoke(app, ["services", "list"]))
    assert _json(cli.invoke(app, ["checks", "list", "--json"])) == {"checks": [], "count": 0}
