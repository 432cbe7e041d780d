"""The problem commands that run deployments (the transition verbs, `open` and `detect`) with
the Prefect part (cli_runs.run_and_wait) replaced by a fake, as in
cli/incidents/test_cli_runs.py: checked for the deployment and parameters they send, for how
they find what the run wrote (through the audit trail) and how they report the outcome; the
flows themselves run in tests/flows/test_problems.py."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops import deployment_names as names
from serviceops.cli import app
from serviceops.cli import runs as cli_runs
from serviceops.domain.incident import IncidentDraft
from serviceops.domain.machine import IllegalTransition
from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.problem import (
    PROBLEMS,
    ProblemAction,
    ProblemCommand,
    ProblemDraft,
    ProblemSource,
    ProblemState,
    logged,
    trend_grew,
)
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.problem import ProblemRepository
from tests.unit.cli.support import RUN_ID, _failed, _fake_run, _json, _ok

# --------------------------------------------------------------------------- flow calls


def test_the_problem_flows_started_by_name_take_what_the_cli_sends() -> None:
    """The transition flows are walked in test_registries.py."""
    from flows.problem.detect_problems import detect_problems
    from flows.problem.lifecycle import log_problem

    assert log_problem.name == names.LOG_PROBLEM
    assert log_problem.fn.__annotations__["problem"] is ProblemDraft
    assert detect_problems.name == names.DETECT_PROBLEMS
    assert detect_problems.parameters.properties == {}


STEPS: list[tuple[list[str], str, dict[str, Any]]] = [
    (
        ["categorize", "--category", "Network/VPN"],
        "categorize-problem",
        {"category": "Network/VPN"},
    ),
    (
        ["prioritize", "--impact", "high", "--urgency", "low"],
        "prioritize-problem",
        {"impact": "high", "urgency": "low"},
    ),
    (
        ["investigate", "--notes", "queue grows", "--root-cause", "full disk"],
        "investigate-problem",
        {"notes": "queue grows", "root_cause": "full disk"},
    ),
    (
        ["investigate", "--notes", "queue grows"],
        "investigate-problem",
        {"notes": "queue grows", "root_cause": None},
    ),
    (
        ["workaround", "--text", "flush the queue"],
        "record-workaround",
        {"workaround": "flush the queue"},
    ),
    (
        [
            "known-error",
            *("--title", "Queue stuck", "--symptom", "mail delayed"),
            *("--root-cause", "full disk", "--workaround", "flush the queue"),
            *("--ci", "mx-2", "--ci", "mx-3"),
        ],
        "raise-known-error",
        {
            "title": "Queue stuck",
            "symptom": "mail delayed",
            "root_cause": "full disk",
            "workaround": "flush the queue",
            "affected_cis": ["mx-2", "mx-3"],
        },
    ),
    (
        ["resolve", "--change", "CHG-000042", "--resolution", "bigger disk"],
        "resolve-problem",
        {"change_ref": "CHG-000042", "resolution": "bigger disk"},
    ),
    (["close"], "close-problem", {"note": ""}),
    (["close", "--note", "quiet for a week"], "close-problem", {"note": "quiet for a week"}),
    (
        ["review", "--summary", "slow to see the trend", "--lessons", "alert on queue size"],
        "review-major-problem",
        {"summary": "slow to see the trend", "lessons": "alert on queue size"},
    ),
]


def test_each_step_runs_its_deployment_with_the_command(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    """One database for all steps (the fake run changes nothing): the argument mapping."""
    calls = _fake_run(monkeypatch)
    for args, flow, fields in STEPS:
        verb, *options = args
        command = ["problem", verb, "PRB-000001", *options, "--actor", "alice", "--json"]
        document = _json(runner.invoke(app, command))
        assert set(document) == {"problem", "flow_run_id"}, args
        assert document["flow_run_id"] == RUN_ID
        assert document["problem"]["number"] == "PRB-000001"
        call = calls.pop()
        assert call.deployment == f"{flow}/{flow}", args
        assert call.parameters == {"command": {"number": "PRB-000001", "actor": "alice"} | fields}
        (model,) = (m for m in ProblemCommand.__subclasses__() if m.flow_name == flow)
        model.model_validate(call.parameters["command"])  # what the server will validate
    assert {flow for _, flow, _ in STEPS} == {
        command.flow_name for command in ProblemCommand.__subclasses__()
    }, "a problem command without a CLI verb"


def test_step_human_output(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    _fake_run(monkeypatch)
    out = _ok(runner.invoke(app, ["problem", "close", "PRB-000002", "--actor", "alice"]))
    assert out.startswith("PRB-000002  VPN tunnel drops")
    assert "known error" in out and "KE-000002" in out
    assert out.rstrip().endswith(f"flow run {RUN_ID}")


ACTOR = ["--actor", "a"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["categorize", "PRB-12", "--category", "network", "--actor", "a"], "NUMBER"),
        (["close", "INC-000001", "--actor", "a"], "NUMBER"),
        (["categorize", "PRB-000001", "--category", "", "--actor", "a"], "--category"),
        (["close", "PRB-000001", "--actor", ""], "--actor"),
        (
            ["prioritize", "PRB-000001", "--impact", "huge", "--urgency", "low", "--actor", "a"],
            "--impact",
        ),
        (["investigate", "PRB-000001", "--notes", "x", "--actor", "a"], "--notes"),
        (
            ["investigate", "PRB-000001", "--notes", "long enough", "--root-cause", "x", *ACTOR],
            "--root-cause",
        ),
        (["workaround", "PRB-000001", "--text", "x", "--actor", "a"], "--text"),
        (
            ["resolve", "PRB-000001", "--change", "", "--resolution", "bigger disk", *ACTOR],
            "--change",
        ),
        (
            [
                *("known-error", "PRB-000001", "--title", "Queue stuck", "--symptom", "mail"),
                *("--root-cause", "disk", "--workaround", "x", *ACTOR),
            ],
            "--workaround",
        ),
        (["review", "PRB-000001", "--summary", "ok", "--actor", "a"], "--summary"),
        (["open", "--title", "x", "--reporter", "bob"], "--title"),
        (["open", "--title", "Mail queue", "--reporter", "bob", "--urgency", "now"], "--urgency"),
    ],
)
def test_bad_input_exits_2_naming_the_option(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, args: list[str], named: str
) -> None:
    calls = _fake_run(monkeypatch)
    line = _failed(runner.invoke(app, ["problem", *args]), 2)
    assert line.startswith(f"error: invalid {named}:"), line
    assert calls == []  # nothing was started


def test_missing_required_option_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["problem", "resolve", "PRB-000001", "--actor", "a"])
    assert result.exit_code == 2
    assert "--change" in result.output


def test_an_illegal_step_is_the_flows_message_exit_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    with pytest.raises(IllegalTransition) as raised:
        PROBLEMS.next_state("PRB-000003", ProblemState.CLOSED, ProblemAction.RESOLVE)
    message = f"IllegalTransition: {raised.value}"
    _fake_run(monkeypatch, cli_runs.RunOutcome(RUN_ID, "FAILED", "Failed", message, final=True))
    args = ["problem", "resolve", "PRB-000003", "--change", "CHG-1", "--resolution", "done"]
    result = runner.invoke(app, [*args, "--actor", "alice"])
    assert _failed(result, 1) == f"error: flow run {RUN_ID} Failed: {message}"
    assert "cannot resolve a problem that is closed" in result.stderr
    assert result.stdout == ""
    result = runner.invoke(app, [*args, "--actor", "alice", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["state"] == "FAILED"


def test_prefect_unavailable_and_timeout_exit_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, cli_db: sessionmaker[Session]
) -> None:
    def unavailable(call: cli_runs.FlowCall, timeout: float) -> cli_runs.RunOutcome:
        raise cli_runs.PrefectUnavailable("no Prefect in unit tests")

    monkeypatch.setattr(cli_runs, "run_and_wait", unavailable)
    result = runner.invoke(app, ["problem", "close", "PRB-000001", "--actor", "a"])
    assert _failed(result, 1) == "error: no Prefect in unit tests"
    _fake_run(monkeypatch, cli_runs.RunOutcome(RUN_ID, "SCHEDULED", "Late", "", final=False))
    result = runner.invoke(
        app, ["problem", "close", "PRB-000001", "--actor", "a", "--timeout", "3"]
    )
    assert "still Late after 3s" in _failed(result, 1)


# --------------------------------------------------------------------------- open, detect


OPEN = ["problem", "open", "--title", "Mail queue keeps growing", "--reporter", "carol"]


def test_open_runs_log_problem_and_finds_the_number_through_the_audit_trail(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    def log_problem(call: cli_runs.FlowCall) -> None:
        """What the real flow does, as far as the CLI can see: a row and its audit entry."""
        draft = ProblemDraft.model_validate(call.parameters["problem"])
        with seeded.begin() as session:
            problem = ProblemRepository(session).add(draft, ProblemSource.MANUAL, datetime.now(UTC))
            entry = logged(problem).model_copy(update={"flow_run_id": RUN_ID})
            AuditRepository(session).add(entry)

    calls = _fake_run(monkeypatch, effect=log_problem)
    options = ["--service", "mail", "--ci", "mx-1", "--category", "Software/Email"]
    document = _json(runner.invoke(app, [*OPEN, *options, "--impact", "high", "--json"]))
    assert calls[0].deployment == "log-problem/log-problem"
    assert calls[0].parameters == {
        "problem": {
            "title": "Mail queue keeps growing",
            "description": "",
            "service": "mail",
            "ci": "mx-1",
            "category": "software/email",
            "impact": "high",
            "urgency": "medium",
            "reporter": "carol",
        }
    }
    assert document["flow_run_id"] == RUN_ID
    problem = document["problem"]
    assert (problem["number"], problem["state"], problem["source"]) == (
        "PRB-000004",
        "new",
        "manual",
    )
    assert (problem["reporter"], problem["impact"]) == ("carol", "high")


def test_open_run_that_logged_nothing_exits_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, cli_db: sessionmaker[Session]
) -> None:
    _fake_run(monkeypatch)
    assert "recorded no problem" in _failed(runner.invoke(app, OPEN), 1)


def test_detect_reports_what_it_opened_and_updated(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    def detect(call: cli_runs.FlowCall) -> None:
        """What the run writes: a new trend's problem (audited "log"), and the mail trend's
        new incident (audited "link")."""
        now = datetime.now(UTC)
        draft = IncidentDraft(
            title="Mail bounces again",
            service="mail",
            category="software/email",
            impact=Impact.LOW,
            urgency=Urgency.LOW,
            reporter="bob",
        )
        with seeded.begin() as session:
            problems = ProblemRepository(session)
            incident = IncidentRepository(session).add(draft, now)
            problems.link("PRB-000001", [incident.number], now)
            mail = problems.get("PRB-000001")
            AuditRepository(session).add(
                trend_grew(mail, "problem-management", now).model_copy(
                    update={"flow_run_id": RUN_ID}
                )
            )
            opened = problems.add(
                ProblemDraft(title="Recurring incidents on CI mx-1", ci="mx-1"),
                ProblemSource.TREND,
                now,
                trend_key="ci:mx-1",
            )
            entry = logged(opened).model_copy(update={"flow_run_id": RUN_ID})
            AuditRepository(session).add(entry)

    calls = _fake_run(monkeypatch, effect=detect)
    document = _json(runner.invoke(app, ["problem", "detect", "--json"]))
    assert calls[0].deployment == "detect-problems/detect-problems"
    assert calls[0].parameters == {}
    assert document["flow_run_id"] == RUN_ID
    assert [(v["number"], v["trend_key"]) for v in document["opened"]] == [
        ("PRB-000004", "ci:mx-1")
    ]
    assert [(v["number"], v["frequency"]) for v in document["updated"]] == [("PRB-000001", 3)]


def test_detect_human_output(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    _fake_run(monkeypatch)
    out = _ok(runner.invoke(app, ["problem", "detect"]))
    assert out.startswith("no new trends")
    assert f"flow run {RUN_ID}" in out
