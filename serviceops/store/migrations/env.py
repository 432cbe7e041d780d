"""Alembic environment for the serviceops database.

There is no alembic.ini: `serviceops.store.db.migrate()` builds the Config in code, so a wheel
install migrates its database without a file next to it. A caller (a test, a CLI command) may
hand in an open connection as `config.attributes["connection"]`; otherwise one is made from
`sqlalchemy.url` with the same engine settings the application uses (SQLite WAL, psycopg 3).
"""

from alembic import context
from sqlalchemy import Connection, text

from serviceops.store.db import make_engine
from serviceops.store.schema import metadata

config = context.config
target_metadata = metadata


def _configure(connection: Connection) -> None:
    """Batch mode on SQLite: it cannot ALTER most things, so Alembic copies the table instead."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )


def _begin_serialised(connection: Connection) -> None:
    """Open the one transaction the whole upgrade runs in, holding off other migrators.

    Several processes (the serve process, gateway replicas, workers) may call migrate() at
    the same moment. The first takes a lock; the others wait for its commit, then Alembic
    reads the new version inside their own transaction and does nothing.

    PostgreSQL: a transaction-scoped advisory lock, one per schema. SQLite: BEGIN IMMEDIATE
    takes the write lock up front (the engine's busy_timeout makes the others wait). Both
    run DDL transactionally this way, so a failed upgrade leaves nothing half done.
    """
    if connection.dialect.name == "postgresql":
        lock = "SELECT pg_advisory_xact_lock(hashtext('serviceops-migrate:' || current_schema()))"
        connection.execute(text(lock))
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.begin()


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: print the DDL for a DBA instead of running it."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=bool(url and url.startswith("sqlite")),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    """Upgrade in one transaction: ours, or the caller's when it handed one in already open."""
    owned = not connection.in_transaction()
    if owned:
        _begin_serialised(connection)
    _configure(connection)  # Alembic sees a transaction in progress and leaves it to us
    context.run_migrations()
    if owned:
        connection.commit()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url in the Alembic config: use store.db.migrate()")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
