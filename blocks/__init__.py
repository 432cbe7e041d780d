"""Prefect blocks: the configuration and credentials operators manage in the Prefect UI."""
