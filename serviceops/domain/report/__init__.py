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
    silenced_time,
)
from serviceops.domain.report.oncall import (
    AcknowledgeTimes,
    OnCallKpis,
    PagedFacts,
    PageFacts,
    PersonWeek,
    oncall_kpis,
    percentile,
)
from serviceops.domain.report.period import ReportKind, ReportPeriod, period_ending, period_through

__all__ = [
    "AcknowledgeTimes",
    "EventFacts",
    "IncidentFacts",
    "KpiFacts",
    "KpiReport",
    "OnCallKpis",
    "PageFacts",
    "PagedFacts",
    "PersonWeek",
    "ProblemFacts",
    "Rate",
    "ReportKind",
    "ReportPeriod",
    "RequestFacts",
    "bar_chart",
    "compute_kpis",
    "compute_report",
    "mean_duration",
    "oncall_kpis",
    "percent",
    "percentile",
    "period_ending",
    "period_through",
    "request_kpis",
    "silenced_time",
]
