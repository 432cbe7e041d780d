"""`make up` loads the service catalogue before anything starts: a good file lands in the
database, a bad one stops `make up` with the field that failed, not a traceback."""

from pathlib import Path

import pytest

from serviceops.settings import Settings
from serviceops.stack import Stack, StackError
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import migrate, sessions_for

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
    assert names == ["prefect-server", "serviceops-database", "serviceops-gateway"]


def test_a_bad_catalogue_stops_make_up_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "cmdb.toml"
    bad.write_text('[[items]]\nname = "x"\nowner_group = "ops"\ntier = 9\n')
    with pytest.raises(StackError, match=r"items\[0\].*tier"):
        stack_for(tmp_path, bad)._load_catalogue()
