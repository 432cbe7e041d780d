"""`serviceops request approve|reject` against a real database (both backends) and Prefect's
test server, where a suspended stand-in fulfil-request run waits for the decision: who may
decide (four eyes, the manager or a delegate), the resume that delivers it, and the refusals
when there is nothing to decide or Prefect is down."""

from typing import Any
from uuid import UUID

import pytest
from prefect.client.schemas.objects import StateType
from prefect.input.actions import read_flow_run_input
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app
from serviceops.domain.request import Identity, RequestState
from serviceops.store.request import IdentityRepository
from tests.unit.cli.requests.support import LAPTOP_DETAILS, _awaiting_manager, _error, _requests
from tests.unit.cli.support import _json, _ok
from tests.unit.conftest import Fulfilment
from tests.unit.policy_support import saved_request_policy


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
