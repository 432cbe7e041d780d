"""The operations report: read the period's facts, compute the KPIs, render, tell management."""

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.incident_policy import load_policy
from blocks.slack import load_slack
from serviceops.domain.report import (
    KpiReport,
    ReportKind,
    bar_chart,
    compute_report,
    period_ending,
    period_through,
)
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message, render_text
from serviceops.store.report import KpiRepository
from tasks.context import now, sessions


def report_markdown(report: KpiReport) -> str:
    """The markdown report; the charts are drawn here because the template cannot call
    domain code (a sandbox sees only its context)."""
    weekly = report.period.kind is ReportKind.WEEKLY
    return render_text(
        "ops_report",
        report=report,
        hour_chart=bar_chart(report.incidents.hour_rows()),
        day_chart=bar_chart(report.incidents.day_rows()) if weekly else "",
    )


def artifact_key(kind: ReportKind) -> str:
    """One key per kind: each run adds a version, so the UI shows the latest and its history."""
    return f"ops-report-{kind.value}"


def summary_key(report: KpiReport) -> str:
    """The outbox key: one summary per kind and period, however often the report is re-run."""
    return f"ops-report:{report.period.kind.value}:{report.period.first_day.isoformat()}"


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def gather_kpis(kind: ReportKind, last_day: date | None = None) -> KpiReport:
    """The KPIs of the period through `last_day` (default: the last whole period before now),
    in the team's timezone (the incident policy's calendar), with the policy's default group
    as the first line."""
    policy = load_policy()
    timezone = policy.calendar.timezone
    if last_day is None:
        period = period_ending(kind, now(), timezone)
    else:
        period = period_through(kind, last_day, timezone)
    with sessions().begin() as session:
        facts = KpiRepository(session).facts(period)
    return compute_report(facts, policy.default_group, policy.calendar)


@task(cache_policy=NO_CACHE)
def render_report(report: KpiReport) -> str:
    return report_markdown(report)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def queue_report_summary(report: KpiReport) -> bool:
    """Queue the headline numbers for the management channel; False when this period's
    summary was queued already (a retry or a re-run posts nothing twice)."""
    slack = load_slack()
    message = render_message("ops_report_summary", report=report)
    with sessions().begin() as session:
        return Outbox(session).post(
            key=summary_key(report),
            channel=slack.management_channel,
            message=message,
            record=None,
            at=now(),
        )
