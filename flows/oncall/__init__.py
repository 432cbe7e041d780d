"""On-call (schedules, overrides; paging to come) as flows."""
