"""The operations report: its period, and the KPI formulas over the facts the store gathers."""

from serviceops.domain.report.facts import (
    EventFacts,
    IncidentFacts,
    KpiFacts,
    ProblemFacts,
    RequestFacts,
)
from serviceops.domain.report.kpi import (
    KpiReport,
    Rate,
    bar_chart,
    compute_kpis,
    compute_report,
    mean_duration,
    percent,
    request_kpis,
)
from serviceops.domain.report.period import ReportKind, ReportPeriod, period_ending, period_through

__all__ = [
    "EventFacts",
    "IncidentFacts",
    "KpiFacts",
    "KpiReport",
    "ProblemFacts",
    "Rate",
    "ReportKind",
    "ReportPeriod",
    "RequestFacts",
    "bar_chart",
    "compute_kpis",
    "compute_report",
    "mean_duration",
    "percent",
    "period_ending",
    "period_through",
    "request_kpis",
]
