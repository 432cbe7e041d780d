"""Helpers shared by the request CLI tests: a laptop request's details, and requests recorded
as intake and fulfil-request leave them."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import Result

from serviceops.domain.request import ApprovalKind, RequestState, RequestSubmission, ServiceRequest
from serviceops.domain.request import fulfilment as fulfilment_steps
from serviceops.store.audit import AuditRepository
from serviceops.store.request import RequestRepository

NOT_STARTED = "not started yet: Prefect is unreachable; the minute's housekeeping will start it"
LAPTOP_DETAILS = {
    "type": "new_laptop",
    "model": "developer",
    "cost": 1999.5,
    "justification": "New starter in the platform team",
    "deliver_to": "alice",
}


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
