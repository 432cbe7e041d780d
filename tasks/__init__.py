"""Prefect tasks: thin wrappers that load configuration, open one transaction, call the domain."""
