"""Incident management (ITIL SO 4.2) as flows."""
