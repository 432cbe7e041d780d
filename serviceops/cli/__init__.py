"""The `serviceops` command (typer): a module per process, the shared options once (common),
the human output (output) and the way into flow runs (runs). It reads the database and the
application layer, and changes state only through flow runs."""

from serviceops.cli.main import app

__all__ = ["app"]
