"""ops-report: the service desk's KPIs for the last day or week (ITIL SO 4.2), as a markdown
artifact with tables and charts, and a summary for management in Slack.

Deployed twice, daily and weekly, each at 06:00 on the whole days that ended before it.
"""

from datetime import date

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from serviceops import deployment_names as names
from serviceops.domain.report import KpiReport, ReportKind
from tasks.notifications import deliver_notifications
from tasks.report import artifact_key, gather_kpis, queue_report_summary, render_report


@flow(name=names.OPS_REPORT)
def ops_report(kind: ReportKind = ReportKind.DAILY, last_day: date | None = None) -> KpiReport:
    """The KPIs of the period, published as an artifact and summarised in Slack.

    Args:
        kind: daily (yesterday) or weekly (the seven whole days before today).
        last_day: Empty: the latest whole period. A date: the period ending with that day.
    """
    report = gather_kpis(kind, last_day)
    period = report.period
    create_markdown_artifact(
        key=artifact_key(kind),
        markdown=render_report(report),
        description=f"{kind.value} ops report {period.first_day} to {period.last_day}",
    )
    queue_report_summary(report)
    deliver_notifications()
    return report
