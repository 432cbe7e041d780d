"""Incidents: the table and the repository."""

from serviceops.store.incident.repository import IncidentRepository

__all__ = ["IncidentRepository"]
