"""The hand-written migrations build exactly the schema the ORM classes describe, on SQLite
and PostgreSQL, and can be run again (and by several processes at once) without harm."""

import subprocess
import sys
import tomllib
from glob import glob
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from serviceops.store.db import MIGRATIONS, make_engine, migrate
from serviceops.store.schema import metadata

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "incidents",
    "audit_trail",
    "known_errors",
    "notifications",
    "service_requests",
    "webhook_deliveries",
    "identities",
    "access_grants",
}


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    return heads[0]


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert differences(engine) == []
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert current_revision(engine) == head()
    finally:
        engine.dispose()


def test_the_comparison_would_notice_a_missing_index(database_url: str) -> None:
    """Guards the test above against comparing nothing (a wrong schema, a blind option)."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_incidents_response_warn_at"))
        assert [diff[0] for diff in differences(engine)] == ["add_index"]  # type: ignore[index]
    finally:
        engine.dispose()


def test_the_outbox_index_is_partial(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("notifications")}
        options = indexes["ix_notifications_undelivered"]["dialect_options"]
        where = options.get("postgresql_where", options.get("sqlite_where"))
        assert "delivered_at IS NULL" in str(where)
    finally:
        engine.dispose()


def test_migrating_again_changes_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_trail (record, action, actor, at, to_state, reason)"
                    " VALUES ('INC-000001', 'log', 'alice', :at, 'new', '')"
                ),
                {"at": "2025-03-03 09:00:00+00:00"},
            )

        migrate(database_url)
        migrate(database_url)

        assert current_revision(engine) == head()
        assert differences(engine) == []
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_trail")).scalar() == 1
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from serviceops.store.db import normalise_url

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    engine = make_engine(database_url)
    try:
        command.downgrade(config, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert current_revision(engine) is None

        migrate(database_url)
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_processes_migrating_a_fresh_database_at_once_all_succeed(empty_database_url: str) -> None:
    """The serve process, the gateway and workers may all migrate on start: one does the
    work, the others wait for it and find nothing to do (no 'table already exists')."""
    code = "import sys; from serviceops.store.db import migrate; migrate(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, empty_database_url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]

    assert [p.returncode for p in processes] == [0, 0, 0, 0], "\n".join(errors)
    engine = make_engine(empty_database_url)
    try:
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_the_migration_files_are_package_data() -> None:
    """A wheel without env.py or a revision cannot migrate: every file must match a glob."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["serviceops.store"]
    store = MIGRATIONS.parent
    files = {
        path.relative_to(store).as_posix()
        for path in MIGRATIONS.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    shipped = {match for pattern in globs for match in glob(pattern, root_dir=store)}

    assert {"migrations/env.py", "migrations/script.py.mako"} <= files
    assert any(f.startswith("migrations/versions/") for f in files)
    assert sorted(files - shipped) == []
