"""The ops report as people read it: the markdown artifact against golden files, the Slack
summary as valid Block Kit with the text escaped.

Golden files: after an intended change of the report, regenerate them with
`SERVICEOPS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_ops_report.py` and review the
diff; without the variable any difference fails.
"""

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from serviceops.domain.incident import BusinessCalendar
from serviceops.domain.report import (
    EventFacts,
    KpiReport,
    ProblemFacts,
    ReportKind,
    compute_kpis,
    oncall_kpis,
    period_through,
)
from serviceops.notify.render import render_message
from tasks.report import report_markdown, summary_key
from tests.unit.kpi_support import FIRST_LINE, INCIDENTS, PAGES, STAGES, at, request

REPORT_TEMPLATES = ("ops_report_summary",)
GOLDEN = Path(__file__).with_name("golden")
HOUR = timedelta(hours=1)
UPDATE = "SERVICEOPS_UPDATE_GOLDEN"
HOSTILE = '<!channel> & <@U123> "quoted" \\ | back'
REQUESTS = [
    request("REQ-1", at(10), at(9)),
    request("REQ-2", at(15), at(16)),
    request("REQ-3", at(18), None, "fulfilling"),
]


def fixed_report(kind: ReportKind, first_line_group: str = FIRST_LINE) -> KpiReport:
    period = period_through(kind, date(2026, 11, 25))
    report = compute_kpis(
        period,
        INCIDENTS,
        REQUESTS,
        EventFacts(
            received=20,
            correlated=15,
            became_incident=5,
            incidents=2,
            symptoms=6,
            silence_windows=[
                (period.start - timedelta(hours=1), period.start + timedelta(hours=3))
            ],
        ),
        ProblemFacts(opened=2, closed=1, open_at_end=4),
        3,
        first_line_group,
        stages=STAGES,
    )
    return report.model_copy(update={"on_call": oncall_kpis(period, PAGES, BusinessCalendar())})


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get(UPDATE):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        pytest.skip(f"{path} rewritten ({UPDATE} is set): review the diff")
    assert path.exists(), f"no golden file {path}: run with {UPDATE}=1 once"
    expected = path.read_text()
    assert text == expected, f"the report differs from {path}; regenerate with {UPDATE}=1"


@pytest.mark.parametrize("kind", list(ReportKind))
def test_report_matches_the_golden_file(kind: ReportKind) -> None:
    check_golden(f"ops_report_{kind.value}.md", report_markdown(fixed_report(kind)))


def test_daily_report_has_the_hour_chart_and_no_day_chart() -> None:
    text = report_markdown(fixed_report(ReportKind.DAILY))
    assert "### Logged by hour of day (UTC)" in text
    assert "09 | ██████████████████████████████ 2" in text  # the busiest hour: a full bar
    assert "14 | ███████████████                1" in text  # half of it
    assert "Logged per day" not in text
    assert "| Within response target | 66.7% (2 of 3) |" in text
    assert "| Requests fulfilled on time | 33.3% (1 of 3) |" in text
    assert "None" not in text


def test_weekly_report_charts_the_days() -> None:
    text = report_markdown(fixed_report(ReportKind.WEEKLY))
    assert text.startswith("# Operations report (weekly): 2026-11-19 to 2026-11-25\n")
    assert "Wed 11-25 | ██████████████████████████████ 4" in text
    assert "| Tue 2026-11-24 | 1 | 0 |" in text


def test_user_text_stays_in_its_table_cell() -> None:
    text = report_markdown(fixed_report(ReportKind.DAILY, first_line_group="desk|ops"))
    assert "| Resolved at first line (desk\\|ops) | resolved |" in text


def test_summary_is_block_kit_with_headline_numbers() -> None:
    report = fixed_report(ReportKind.DAILY)
    message = render_message("ops_report_summary", report=report)
    assert message.text == (
        ":bar_chart: Ops report (daily) 2026-11-25: 4 logged, 3 resolved, backlog 3, 1 major"
    )
    types = [block["type"] for block in message.blocks]
    assert types == ["header", "section", "context"]
    header, section, context = message.blocks
    assert header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150
    assert 0 < len(section["fields"]) <= 10
    assert all(field["type"] == "mrkdwn" for field in section["fields"])
    fields = [field["text"] for field in section["fields"]]
    assert "*Within response target*\n66.7%" in fields
    assert "*Mean time to resolve*\n3h 20m" in fields
    assert "ops-report-daily" in context["elements"][0]["text"]
    assert "None" not in json.dumps(message.blocks)


def test_summary_of_an_empty_period_shows_dashes() -> None:
    report = compute_kpis(
        period_through(ReportKind.WEEKLY, date(2026, 11, 29)),
        [],
        [],
        EventFacts(),
        ProblemFacts(),
        0,
        FIRST_LINE,
    )
    message = render_message("ops_report_summary", report=report)
    fields = [field["text"] for field in message.blocks[1]["fields"]]
    assert "*Within resolution target*\n—" in fields and "*Mean time to resolve*\n—" in fields
    assert "2026-11-23 to 2026-11-29" in message.text


def test_summary_text_is_slack_escaped() -> None:
    message = render_message(
        "ops_report_summary", report=fixed_report(ReportKind.DAILY, first_line_group=HOSTILE)
    )
    blocks = json.dumps(message.blocks, ensure_ascii=False)
    assert "<!channel>" not in blocks and "<@U123>" not in blocks
    assert '&lt;!channel&gt; &amp; &lt;@U123&gt; \\"quoted\\" \\\\ | back' in blocks


def test_summary_key_is_one_per_kind_and_period() -> None:
    assert summary_key(fixed_report(ReportKind.DAILY)) == "ops-report:daily:2026-11-25"
    assert summary_key(fixed_report(ReportKind.WEEKLY)) == "ops-report:weekly:2026-11-19"
