"""The service desk's own records, through SQLAlchemy 2.0: a package per process (its tables and
repositories), the shared audit trail, locks and base, and the whole schema for Alembic. ORM
classes stay in the store, but for the outbox's table that serviceops.notify writes and sends."""
