"""The operations report's facts, gathered with a few SQL queries per period."""

from serviceops.store.report.kpis import KpiRepository

__all__ = ["KpiRepository"]
