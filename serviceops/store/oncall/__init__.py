"""On-call overrides and pages as recorded; the schedules are the catalogue's."""

from serviceops.store.oncall.overrides import OverrideRepository
from serviceops.store.oncall.pages import PageRepository

__all__ = ["OverrideRepository", "PageRepository"]
