"""The service desk's own records, through SQLAlchemy 2.0; ORM classes never leave this package."""
