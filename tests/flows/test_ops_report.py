"""ops-report against the real Prefect test server: the KPIs of yesterday, the markdown
artifact under its key, and one Slack summary for management however often it runs."""

from datetime import UTC, datetime, time, timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy.orm import Session, sessionmaker

from flows.operations.ops_report import ops_report
from serviceops.domain.report import ReportKind
from tests.unit.test_store_kpis import incident


def test_daily_report_publishes_an_artifact_and_tells_management_once(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    noon = datetime.combine(yesterday, time(12), UTC)
    with sessions.begin() as session:
        incident(
            session,
            1,
            priority=1,
            major=True,
            state="resolved",
            created_at=noon,
            updated_at=noon + timedelta(minutes=45),
            resolved_at=noon + timedelta(minutes=45),
            resolution_due_at=noon + timedelta(hours=1),
            resolution_stopped_at=noon + timedelta(minutes=45),
        )
        incident(session, 2, state="assigned", created_at=noon + timedelta(hours=1))

    report = ops_report("daily")

    assert report.period.kind is ReportKind.DAILY and report.period.last_day == yesterday
    assert (report.incidents.logged, report.incidents.resolved, report.incidents.backlog) == (
        2,
        1,
        1,
    )
    assert report.incidents.within_resolution.percent == 100.0
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ops-report-daily"]))
        )
    assert artifacts, "no ops-report-daily artifact"
    markdown = str(artifacts[-1].data)
    assert markdown.startswith(f"# Operations report (daily): {yesterday}")
    assert "| Incidents logged | 2 |" in markdown and "```text" in markdown

    summaries = [m for m in fake_slack.messages if "Ops report (daily)" in m["text"]]
    assert len(summaries) == 1
    assert summaries[0]["channel"] == "#incident-management"
    assert "2 logged, 1 resolved, backlog 1, 1 major" in summaries[0]["text"]

    ops_report(ReportKind.DAILY)  # a re-run of the same period posts nothing twice
    assert len([m for m in fake_slack.messages if "Ops report (daily)" in m["text"]]) == 1
