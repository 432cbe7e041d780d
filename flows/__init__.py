"""Prefect flows: they orchestrate tasks and subflows, one flow per ITIL procedure."""
