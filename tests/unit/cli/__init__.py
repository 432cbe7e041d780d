"""The `serviceops` command line, driven with typer's CliRunner: a package per process."""
