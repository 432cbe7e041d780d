"""`serviceops request submit` against a real database (both backends) and a real Prefect API: a
closed port for "down", where the request is recorded for the housekeeping to start, and
Prefect's test server with the stand-in fulfil-request deployment for a start; bad input exits 2
naming the option and records nothing."""

import getpass

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.application import intake
from serviceops.cli import app
from serviceops.domain.request import RequestState
from serviceops.store.audit import AuditRepository
from tests.unit.cli.requests.support import LAPTOP_DETAILS, NOT_STARTED, _error, _requests
from tests.unit.cli.support import _json, _ok
from tests.unit.conftest import Fulfilment

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
    "cost=1999.5",
    "--field",
    "justification=New starter in the platform team",
    "--field",
    "deliver_to=alice",
]


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
    with cli_db.begin() as session:
        (submitted,) = AuditRepository(session).for_record("REQ-000001")
    assert (submitted.actor, submitted.known_as) == ("alice", f"cli {getpass.getuser()}")


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
