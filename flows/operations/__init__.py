"""Routine operational activities (ITIL SO 5) and the plumbing they share."""
