"""`serviceops request ...` and `serviceops catalogue list`: against a real database (both
backends) and, where Prefect matters, a real Prefect API: a closed port for "down", Prefect's
test server with the stand-in fulfil-request deployment for starts and resumes."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from prefect.client.schemas.objects import StateType
from prefect.input.actions import read_flow_run_input
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from serviceops.application import intake
from serviceops.cli import app
from serviceops.domain.request import (
    ApprovalKind,
    Identity,
    RequestState,
    RequestSubmission,
    ServiceRequest,
    catalogue,
)
from serviceops.domain.request import fulfilment as fulfilment_steps
from serviceops.domain.views import CatalogueDocument
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.db import sessions_for
from serviceops.store.request import IdentityRepository, RequestRepository
from tests.unit.conftest import Fulfilment
from tests.unit.gateway_support import closed_port_url
from tests.unit.policy_support import saved_request_policy

NOT_STARTED = "not started yet: Prefect is unreachable; the minute's housekeeping will start it"
LAPTOP = [
    "request",
    "submit",
    "--type",
    "new_laptop",
    "--requester",
    "alice",
    "--field",
    "model=developer",
    "--field",
    "cost=1999.50",
    "--field",
    "justification=New starter in the platform team",
    "--field",
    "deliver_to=alice",
]
LAPTOP_DETAILS = {
    "type": "new_laptop",
    "model": "developer",
    "cost": "1999.50",
    "justification": "New starter in the platform team",
    "deliver_to": "alice",
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli_db(
    monkeypatch: pytest.MonkeyPatch, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[sessionmaker[Session]]:
    """The CLI pointed at the fixture database; its cached engine is disposed afterwards so
    no pooled connection outlives the test schema."""
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield sessions
    get_settings.cache_clear()
    sessions_for(database_url).kw["bind"].dispose()
    sessions_for.cache_clear()


@pytest.fixture
def prefect_down() -> Iterator[str]:
    """PREFECT_API_URL on a loopback port nobody listens on."""
    url = closed_port_url()
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def _json(result: Result) -> Any:
    return json.loads(_ok(result))


def _error(result: Result, code: int) -> str:
    """The one stderr line of a refused command (no traceback, nothing on stdout)."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _requests(sessions: sessionmaker[Session]) -> list[ServiceRequest]:
    with sessions.begin() as session:
        return RequestRepository(session).list()


def _add(
    sessions: sessionmaker[Session],
    requester: str,
    details: dict[str, Any],
    *,
    minutes: int = 0,
    **changes: Any,
) -> str:
    """A request recorded as intake does (with its audit row), then changed as a flow would."""
    at = datetime.now(UTC) + timedelta(minutes=minutes)
    submission = RequestSubmission.model_validate({"requester": requester, "details": details})
    with sessions.begin() as session:
        requests = RequestRepository(session)
        request = requests.add(submission, source="portal", at=at)
        AuditRepository(session).add(fulfilment_steps.submitted(request))
        if changes:
            requests.save(request.model_copy(update=changes))
    return request.number


def _awaiting_manager(sessions: sessionmaker[Session], flow_run_id: UUID | None) -> str:
    """alice's laptop, waiting for the manager's approval, as fulfil-request leaves it."""
    return _add(
        sessions,
        "alice",
        LAPTOP_DETAILS,
        state=RequestState.AWAITING_APPROVAL,
        approvals_required=[ApprovalKind.MANAGER],
        flow_run_id=None if flow_run_id is None else str(flow_run_id),
    )


def _suspended(fulfilment: Fulfilment, sessions: sessionmaker[Session]) -> tuple[str, UUID, Any]:
    """A request awaiting the manager (bob, in the directory) and its fulfil-request run,
    suspended for it."""
    with sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="alice", manager="bob"))
    number = "REQ-000001"
    submission = {"requester": "alice", "details": LAPTOP_DETAILS}
    run_id, keyset = fulfilment.suspended_run({"request": submission, "number": number})
    assert _awaiting_manager(sessions, run_id) == number
    return number, run_id, keyset


# --------------------------------------------------------------------------- catalogue


def test_catalogue_human_under_both_names(runner: CliRunner) -> None:
    out = _ok(runner.invoke(app, ["catalogue", "list"]))
    assert _ok(runner.invoke(app, ["request", "catalogue"])) == out
    lines = out.splitlines()
    assert lines[0].split() == ["type", "title", "approvals", "fulfilment", "target"]
    laptop = next(line for line in lines if line.startswith("new_laptop "))
    assert "financial over 1500, manager" in laptop
    assert "order_hardware, hand_over_hardware" in laptop
    assert laptop.endswith("5 days")
    reset = next(line for line in lines if line.startswith("password_reset "))
    assert "none" in reset and reset.endswith("4 h")
    assert lines[-1] == f"{len(catalogue())} item(s)"


def test_catalogue_json_is_the_read_api_document(runner: CliRunner) -> None:
    document = _json(runner.invoke(app, ["catalogue", "list", "--json"]))
    assert document == _json(runner.invoke(app, ["request", "catalogue", "--json"]))
    assert CatalogueDocument.model_validate(document) == CatalogueDocument(items=catalogue())
    by_type = {item["type"]: item for item in document["items"]}
    assert by_type["new_laptop"]["approvals"] == ["manager", "financial"]
    assert by_type["new_laptop"]["financial_threshold"] == "1500"
    assert by_type["new_laptop"]["fulfilment"] == ["order_hardware", "hand_over_hardware"]
    assert by_type["new_laptop"]["target"] == "P5D"
    assert by_type["access_grant"]["approvals"] == ["manager", "system_owner"]


# --------------------------------------------------------------------------- submit


def test_submit_with_prefect_down_records_and_says_it_will_start(
    runner: CliRunner, cli_db: sessionmaker[Session], prefect_down: str
) -> None:
    result = runner.invoke(app, LAPTOP)
    out = _ok(result)
    assert out.splitlines() == [
        "REQ-000001 recorded: New laptop for alice (submitted)",
        f"  flow run  {NOT_STARTED}",
    ]
    assert result.stderr.startswith("warning: REQ-000001 recorded; fulfil-request not started")
    [request] = _requests(cli_db)
    assert (request.number, request.source, request.flow_run_id) == ("REQ-000001", "cli", None)
    assert request.details.model_dump(mode="json") == LAPTOP_DETAILS
    assert request.state == RequestState.SUBMITTED


def test_submit_json_document(
    runner: CliRunner,
    cli_db: sessionmaker[Session],
    prefect_down: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 0.2)
    document = _json(runner.invoke(app, [*LAPTOP, "--json"]))
    assert set(document) == {"request", "duplicate"}
    assert document["duplicate"] is False
    request = document["request"]
    assert request["number"] == "REQ-000001"
    assert request["state"] == "submitted"
    assert request["source"] == "cli"
    assert request["flow_run_id"] is None
    assert request["details"] == LAPTOP_DETAILS
    assert request["title"] == "New laptop"


def test_submit_with_the_same_id_twice_is_one_request(
    runner: CliRunner,
    cli_db: sessionmaker[Session],
    prefect_down: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 0.2)
    first = _json(runner.invoke(app, [*LAPTOP, "--id", "portal-42", "--json"]))
    again = runner.invoke(app, [*LAPTOP, "--id", "portal-42"])
    assert first["duplicate"] is False
    assert _ok(again).splitlines()[0] == (
        "REQ-000001 was submitted before with --id portal-42: nothing new"
    )
    [request] = _requests(cli_db)
    assert request.external_id == "portal-42"


def test_submit_with_prefect_up_starts_fulfil_request(
    runner: CliRunner, cli_db: sessionmaker[Session], fulfilment: Fulfilment
) -> None:
    result = runner.invoke(app, [*LAPTOP, "--json"])
    document = _json(result)
    assert result.stderr == ""
    [run] = fulfilment.runs()
    assert document["request"]["flow_run_id"] == str(run.id)
    assert run.parameters["number"] == "REQ-000001"
    assert run.parameters["request"]["details"] == LAPTOP_DETAILS
    assert run.parameters["request"]["requester"] == "alice"
    assert (run.idempotency_key or "").startswith("fulfil-request:REQ-000001:")
    [request] = _requests(cli_db)
    assert request.flow_run_id == str(run.id)
    reset = ["--type", "password_reset", "--requester", "bob", "--field", "account=bob-admin"]
    human = _ok(runner.invoke(app, ["request", "submit", *reset]))
    runs = {str(r.id) for r in fulfilment.runs()} - {str(run.id)}
    assert human.splitlines() == [
        "REQ-000002 recorded: Password reset for bob (submitted)",
        f"  flow run  {runs.pop()}",
    ]


def _submit(*options: str) -> list[str]:
    return ["request", "submit", "--requester", "alice", *options]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (_submit("--type", "pony"), "error: invalid --type: Input tag 'pony' found"),
        (
            _submit("--type", "new_laptop", "--field", "model=developer", "--field", "cost=lots"),
            "error: invalid --field cost: Input should be a valid decimal (got 'lots')",
        ),
        (
            _submit("--type", "new_laptop", "--field", "model=developer", "--field", "cost=-5"),
            "error: invalid --field cost: Input should be greater than or equal to 0",
        ),
        (
            _submit("--type", "new_laptop", "--field", "model=gold", "--field", "cost=5"),
            "error: invalid --field model: Input should be 'standard', 'developer' or",
        ),
        (
            _submit("--type", "vpn_access"),
            "error: invalid --field user: Field required",
        ),
        (
            _submit("--type", "vpn_access", "--field", "user=bob", "--field", "until=soon"),
            "error: invalid --field until: Input should be a valid date",
        ),
        (
            _submit("--type", "vpn_access", "--field", "user=bob", "--field", "colour=red"),
            "error: invalid --field colour: vpn_access has no such field (user, until)",
        ),
        (
            _submit("--type", "vpn_access", "--field", "user"),
            "error: invalid --field 'user': expected name=value",
        ),
        (
            _submit("--type", "vpn_access", "--field", "user=a", "--field", "user=b"),
            "error: invalid --field user: given twice",
        ),
        (
            _submit("--type", "vpn_access", "--field", "type=new_laptop"),
            "error: invalid --field type: the request type is --type",
        ),
        (
            ["request", "submit", "--type", "vpn_access", "--requester", "", "--field", "user=b"],
            "error: invalid --requester: String should have at least 1 character (got '')",
        ),
        (
            _submit("--type", "vpn_access", "--field", "user=bob", "--id", "x" * 201),
            "error: invalid --id: String should have at most 200 characters",
        ),
    ],
    ids=[
        "unknown-type",
        "not-a-number",
        "negative-cost",
        "bad-enum",
        "missing-field",
        "bad-date",
        "unknown-field",
        "no-equals",
        "twice",
        "type-as-field",
        "empty-requester",
        "long-id",
    ],
)
def test_bad_submission_exits_2_naming_the_option(
    runner: CliRunner,
    cli_db: sessionmaker[Session],
    prefect_down: str,
    args: list[str],
    expected: str,
) -> None:
    line = _error(runner.invoke(app, args), 2)
    assert line.startswith(expected), line
    assert _requests(cli_db) == []  # nothing recorded


def test_every_missing_field_is_named(runner: CliRunner, cli_db: sessionmaker[Session]) -> None:
    line = _error(runner.invoke(app, _submit("--type", "new_laptop")), 2)
    for field in ("model", "cost", "justification", "deliver_to"):
        assert f"invalid --field {field}: Field required" in line


def test_missing_requester_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["request", "submit", "--type", "vpn_access"])
    assert result.exit_code == 2
    assert "--requester" in result.output


# --------------------------------------------------------------------------- show, list


@pytest.fixture
def seeded(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    """REQ-000001 alice's laptop (awaiting the manager), REQ-000002 bob's VPN (submitted),
    REQ-000003 alice's password reset (closed)."""
    _awaiting_manager(cli_db, None)
    _add(cli_db, "bob", {"type": "vpn_access", "user": "bob"}, minutes=1)
    _add(
        cli_db,
        "alice",
        {"type": "password_reset", "account": "alice-admin"},
        minutes=2,
        state=RequestState.CLOSED,
        completed_steps=["reset_password"],
    )
    return cli_db


def test_show_json_is_request_and_audit(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    document = _json(runner.invoke(app, ["request", "show", "REQ-000001", "--json"]))
    assert set(document) == {"request", "audit"}
    request = document["request"]
    assert request["number"] == "REQ-000001"
    assert request["state"] == "awaiting_approval"
    assert request["pending_approval"] == "manager"
    assert request["approvals_required"] == ["manager"]
    assert request["details"] == LAPTOP_DETAILS
    assert request["requester"] == "alice"
    [entry] = document["audit"]
    assert (entry["action"], entry["to_state"], entry["actor"]) == ("submit", "submitted", "alice")


def test_show_human(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    out = _ok(runner.invoke(app, ["request", "show", "REQ-000001"]))
    assert out.startswith("REQ-000001  New laptop (new_laptop)")
    assert "awaiting_approval" in out
    assert "manager approval" in out
    assert "justification  New starter in the platform team" in out
    assert NOT_STARTED in out
    assert "history" in out and "- -> submitted" in out


def test_show_unknown_exits_1(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    assert _error(runner.invoke(app, ["request", "show", "REQ-000077"]), 1) == (
        "error: no request REQ-000077"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], ["REQ-000003", "REQ-000002", "REQ-000001"]),
        (["--state", "awaiting_approval"], ["REQ-000001"]),
        (["--type", "vpn_access"], ["REQ-000002"]),
        (["--requester", "alice"], ["REQ-000003", "REQ-000001"]),
        (["--requester", "alice", "--limit", "1"], ["REQ-000003"]),
        (["--offset", "2"], ["REQ-000001"]),
        (["--state", "rejected"], []),
    ],
)
def test_list_json(
    runner: CliRunner, seeded: sessionmaker[Session], options: list[str], expected: list[str]
) -> None:
    document = _json(runner.invoke(app, ["request", "list", "--json", *options]))
    assert set(document) == {"requests", "count", "limit", "offset"}
    assert [request["number"] for request in document["requests"]] == expected
    assert document["count"] == len(expected)


def test_list_human(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    lines = _ok(runner.invoke(app, ["request", "list"])).splitlines()
    assert lines[0].split()[:4] == ["number", "state", "type", "requester"]
    assert [line.split()[0] for line in lines[1:4]] == ["REQ-000003", "REQ-000002", "REQ-000001"]
    assert lines[3].split()[:5] == [
        "REQ-000001",
        "awaiting_approval",
        "new_laptop",
        "alice",
        "manager",
    ]
    assert lines[-1] == "3 request(s)"
    assert _ok(runner.invoke(app, ["request", "list", "--state", "failed"])).strip() == (
        "no requests"
    )


@pytest.mark.parametrize("options", [["--type", "pony"], ["--state", "bogus"], ["--limit", "0"]])
def test_list_bad_filter_exits_2(
    runner: CliRunner, cli_db: sessionmaker[Session], options: list[str]
) -> None:
    result = runner.invoke(app, ["request", "list", *options])
    assert result.exit_code == 2
    assert options[0] in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- approve, reject


def test_requester_cannot_decide_and_the_run_stays_suspended(
    runner: CliRunner, cli_db: sessionmaker[Session], fulfilment: Fulfilment
) -> None:
    number, run_id, keyset = _suspended(fulfilment, cli_db)
    approve = ["approve", number, "--approver", "Alice"]
    reject = ["reject", number, "--approver", " alice ", "--comment", "changed my mind"]
    for args in (approve, reject):
        line = _error(runner.invoke(app, ["request", *args]), 1)
        assert line == f"error: {args[3]} requested {number} and cannot decide it (four eyes)"
    assert fulfilment.state_of(run_id) == (StateType.PAUSED, "Suspended")
    assert read_flow_run_input(keyset["response"], flow_run_id=run_id) is None


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_a_request_not_awaiting_approval_has_nothing_to_decide(
    runner: CliRunner, seeded: sessionmaker[Session], prefect_down: str, verb: str
) -> None:
    args = ["request", verb, "REQ-000003", "--approver", "carol", "--comment", "no"]
    assert _error(runner.invoke(app, args), 1) == "error: REQ-000003 is closed, nothing to decide"
    args[2] = "REQ-000002"
    assert _error(runner.invoke(app, args), 1) == (
        "error: REQ-000002 is submitted, nothing to decide"
    )


def test_approve_resumes_the_suspended_run_with_the_decision(
    runner: CliRunner, cli_db: sessionmaker[Session], fulfilment: Fulfilment
) -> None:
    number, run_id, keyset = _suspended(fulfilment, cli_db)
    args = ["request", "approve", number, "--approver", "bob", "--comment", "go ahead"]
    document = _json(runner.invoke(app, [*args, "--json"]))
    assert set(document) == {"request", "decision"}
    assert document["decision"] == {
        "kind": "manager",
        "approve": True,
        "approver": "bob",
        "comment": "go ahead",
        "flow_run_id": str(run_id),
    }
    # The run records the decision when it carries on; until then the record still waits.
    assert document["request"]["number"] == number
    assert document["request"]["state"] == "awaiting_approval"
    assert fulfilment.state_of(run_id) == (StateType.SCHEDULED, "Resuming")
    stored = read_flow_run_input(keyset["response"], flow_run_id=run_id)
    assert stored == {"approve": True, "approver": "bob", "comment": "go ahead"}
    # A second decision finds the run no longer waiting: nothing is sent again.
    again = _error(runner.invoke(app, ["request", "approve", number, "--approver", "bob"]), 1)
    assert again.startswith(f"error: {number}: flow run {run_id} is Resuming, not waiting")
    assert read_flow_run_input(keyset["response"], flow_run_id=run_id) == stored


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_someone_without_the_authority_cannot_decide_and_the_run_stays_suspended(
    runner: CliRunner, cli_db: sessionmaker[Session], fulfilment: Fulfilment, verb: str
) -> None:
    number, run_id, keyset = _suspended(fulfilment, cli_db)
    args = ["request", verb, number, "--approver", "carol", "--comment", "no"]
    assert _error(runner.invoke(app, args), 1) == (
        f"error: {number}: carol is neither alice's manager (bob) nor a delegate of bob"
    )
    assert fulfilment.state_of(run_id) == (StateType.PAUSED, "Suspended")
    assert read_flow_run_input(keyset["response"], flow_run_id=run_id) is None


def test_a_delegate_the_policy_names_decides_for_the_manager(
    runner: CliRunner, cli_db: sessionmaker[Session], fulfilment: Fulfilment
) -> None:
    number, run_id, keyset = _suspended(fulfilment, cli_db)
    with saved_request_policy():
        out = _ok(runner.invoke(app, ["request", "approve", number, "--approver", "dave"]))
    assert out.startswith(f"Approved {number} (manager approval) as dave")
    stored = read_flow_run_input(keyset["response"], flow_run_id=run_id)
    assert stored == {"approve": True, "approver": "dave", "comment": ""}


def test_reject_resumes_the_run_with_the_reason(
    runner: CliRunner, cli_db: sessionmaker[Session], fulfilment: Fulfilment
) -> None:
    number, run_id, keyset = _suspended(fulfilment, cli_db)
    args = ["request", "reject", number, "--approver", "bob", "--comment", "over budget"]
    out = _ok(runner.invoke(app, args))
    assert out.splitlines() == [
        f"Rejected {number} (manager approval) as bob: over budget",
        f"  flow run  {run_id} resumed; fulfil-request records the decision as it carries on",
    ]
    assert fulfilment.state_of(run_id) == (StateType.SCHEDULED, "Resuming")
    stored = read_flow_run_input(keyset["response"], flow_run_id=run_id)
    assert stored == {"approve": False, "approver": "bob", "comment": "over budget"}


def test_approve_with_prefect_down_exits_1_and_the_request_waits(
    runner: CliRunner, cli_db: sessionmaker[Session], prefect_down: str
) -> None:
    number = _awaiting_manager(cli_db, UUID("0f0e0d0c-0000-4000-8000-000000000001"))
    line = _error(runner.invoke(app, ["request", "approve", number, "--approver", "bob"]), 1)
    assert line.startswith(
        f"error: {number}: the decision could not be delivered to {prefect_down}"
    )
    [request] = _requests(cli_db)
    assert request.state == RequestState.AWAITING_APPROVAL and request.approvals == []


def test_awaiting_approval_without_a_run_yet(
    runner: CliRunner, cli_db: sessionmaker[Session], prefect_down: str
) -> None:
    number = _awaiting_manager(cli_db, None)
    line = _error(runner.invoke(app, ["request", "approve", number, "--approver", "bob"]), 1)
    assert line.startswith(f"error: {number} awaits the manager approval but has no flow run")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["approve", "REQ-1", "--approver", "bob"], "error: invalid NUMBER:"),
        (["approve", "REQ-000001", "--approver", ""], "error: invalid --approver:"),
        (
            ["reject", "REQ-000001", "--approver", "bob", "--comment", "  "],
            "error: invalid --comment: say why it is rejected",
        ),
        (
            ["approve", "REQ-000001", "--approver", "bob", "--comment", "x" * 2001],
            "error: invalid --comment:",
        ),
    ],
    ids=["number", "approver", "empty-reason", "long-comment"],
)
def test_bad_decision_input_exits_2(
    runner: CliRunner, cli_db: sessionmaker[Session], args: list[str], expected: str
) -> None:
    assert _error(runner.invoke(app, ["request", *args]), 2).startswith(expected)


def test_reject_needs_a_comment(runner: CliRunner) -> None:
    result = runner.invoke(app, ["request", "reject", "REQ-000001", "--approver", "bob"])
    assert result.exit_code == 2
    assert "--comment" in result.output


def test_deciding_an_unknown_request_exits_1(
    runner: CliRunner, cli_db: sessionmaker[Session], prefect_down: str
) -> None:
    args = ["request", "approve", "REQ-000042", "--approver", "bob"]
    assert _error(runner.invoke(app, args), 1) == "error: no request REQ-000042"
