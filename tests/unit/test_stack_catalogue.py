"""`make up` loads the service catalogue before anything starts: a good file lands in the
database, a bad one stops `make up` with the field that failed, not a traceback."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from serviceops.catalogue_file import load_catalogue_file
from serviceops.domain.cmdb import CheckKind, CheckStatus
from serviceops.probes import run_check
from serviceops.settings import Settings
from serviceops.stack import Stack, StackError
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import make_engine, migrate, sessions_for

ROOT = Path(__file__).resolve().parents[2]


def stack_for(tmp_path: Path, cmdb: Path) -> Stack:
    url = f"sqlite:///{tmp_path / 'serviceops.db'}"
    migrate(url)
    return Stack(Settings(state_dir=tmp_path, database_url=url, cmdb_file=cmdb))


def test_the_default_catalogue_is_loaded(tmp_path: Path) -> None:
    stack = stack_for(tmp_path, ROOT / "cmdb.toml")
    stack._load_catalogue()
    with sessions_for(stack.settings.resolved_database_url).begin() as session:
        names = [item.name for item in CatalogueRepository(session).items()]
    assert {"serviceops-gateway", "prefect-server", "serviceops-database"} <= set(names)
    assert {"mail", "shop", "printing"} <= set(names)  # the README's examples name them


def test_the_default_catalogue_s_database_check_passes_the_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make up` runs from the checkout with its database in .serviceops: the check of that
    database must be allowed by the catalogue's own database directories."""
    monkeypatch.chdir(tmp_path)
    migrate("sqlite:///.serviceops/serviceops.db")
    make_engine("sqlite:///.serviceops/serviceops.db").dispose()
    catalogue = load_catalogue_file(ROOT / "cmdb.toml")
    (check,) = catalogue.checks_of(CheckKind.DATABASE)
    result = run_check(check, catalogue.network, catalogue.known_hosts(), datetime.now(UTC))
    assert result.status is CheckStatus.OK, result.summary


def test_a_bad_catalogue_stops_make_up_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "cmdb.toml"
    bad.write_text('[[items]]\nname = "x"\nowner_group = "ops"\ntier = 9\n')
    with pytest.raises(StackError, match=r"items\[0\].*tier"):
        stack_for(tmp_path, bad)._load_catalogue()
