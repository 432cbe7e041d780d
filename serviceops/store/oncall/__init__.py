"""On-call overrides as recorded; the schedules they override are the catalogue's."""

from serviceops.store.oncall.overrides import OverrideRepository

__all__ = ["OverrideRepository"]
