"""Change enablement: the change table, its repository and the schedule's conflicts."""

from serviceops.store.change.changes import ChangeRepository, change_number
from serviceops.store.change.schedule import window_conflicts

__all__ = ["ChangeRepository", "change_number", "window_conflicts"]
