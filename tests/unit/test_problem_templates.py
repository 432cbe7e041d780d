"""The problem-management templates: valid Block Kit, user text inert (a title or a review
cannot ping a channel), the reporter mentioned when closure resolves their incident, and the
review report's tables intact whatever the text."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from serviceops.domain.incident import (
    Incident,
    IncidentState,
    ResolutionCode,
    Source,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.problem import Problem, ProblemSource, ProblemState
from serviceops.notify.render import render_message, render_text

PROBLEM_TEMPLATES = ("problem_notice", "problem_fixed", "problem_review")
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HOSTILE = "<!channel> {{ 7*7 }} | pipe\nnew line & <script>"


def problem(**fields: Any) -> Problem:
    values: dict[str, Any] = {
        "number": "PRB-000042",
        "title": HOSTILE,
        "state": ProblemState.CLOSED,
        "source": ProblemSource.TREND,
        "service": "mail",
        "impact": Impact.HIGH,
        "urgency": Urgency.MEDIUM,
        "priority": Priority.HIGH,
        "frequency": 3,
        "root_cause": HOSTILE,
        "resolution": HOSTILE,
        "change_ref": "CHG-42",
        "known_error_number": "KE-000007",
        "review_summary": HOSTILE,
        "review_lessons": HOSTILE,
        "incident_numbers": ["INC-000001"],
        "created_at": T0,
        "updated_at": T0,
        "resolved_at": T0,
        "closed_at": T0,
        "reviewed_at": T0,
    }
    return Problem.model_validate(values | fields)


def incident() -> Incident:
    return Incident(
        number="INC-000001",
        title=HOSTILE,
        description="",
        service="mail",
        category="software",
        impact=Impact.MEDIUM,
        urgency=Urgency.MEDIUM,
        priority=Priority.MEDIUM,
        reporter="U0ALICE01",
        source=Source.USER,
        state=IncidentState.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        created_at=T0,
        updated_at=T0,
        resolved_at=T0,
    )


def change() -> AuditEntry:
    return AuditEntry(
        record="PRB-000042",
        action="raise_known_error",
        actor="U0PAT0001",
        at=T0,
        from_state="investigating",
        to_state="known_error",
        reason=HOSTILE,
    )


CONTEXTS = {
    "problem_notice": lambda: {"problem": problem(), "change": change()},
    "problem_fixed": lambda: {"problem": problem(), "incident": incident()},
    "problem_review": lambda: {"problem": problem()},
}


@pytest.mark.parametrize("name", PROBLEM_TEMPLATES)
def test_problem_messages_are_block_kit_with_user_text_inert(name: str) -> None:
    message = render_message(name, **CONTEXTS[name]())
    text = message.text + json.dumps(message.blocks)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "PRB-000042" in message.text
    assert all(block["type"] in {"header", "section", "context"} for block in message.blocks)


def test_closure_mentions_the_incident_reporter() -> None:
    message = render_message("problem_fixed", **CONTEXTS["problem_fixed"]())
    assert "<@U0ALICE01>" in message.blocks[0]["text"]["text"]
    assert "CHG-42" in message.blocks[0]["text"]["text"]


def test_the_review_report_keeps_its_tables_whatever_the_text() -> None:
    report = render_text(
        "problem_review", problem=problem(), incidents=[incident()], audit=[change()]
    )
    rows = [line for line in report.splitlines() if line.startswith("| INC-000001")]
    assert len(rows) == 1 and rows[0].count(" | ") == 5  # the pipe in the title is escaped
    assert "\\| pipe<br>new line" in report
    assert "| 2026-11-26 09:00 UTC | raise known error | U0PAT0001 |" in report
