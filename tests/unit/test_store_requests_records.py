"""RequestRepository on SQLite and PostgreSQL: numbering, the full round trip of the model
(every catalogue item), reading a row again and locking it, and external ids, so that what one
flow saves is exactly what the next one reads."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from serviceops.domain.request import Approval, ApprovalKind, RequestState, ServiceRequest
from serviceops.store.base import RecordNotFound
from serviceops.store.request import RequestRepository
from tests.unit.store_requests_support import (
    DETAILS,
    PARIS,
    T0,
    Sessions,
    add,
    get,
    save,
    submission,
    update,
)

# --------------------------------------------------------------------------- add / get / save


def test_add_numbers_requests_in_sequence_submitted_and_due_by_the_catalogue(
    sessions: Sessions,
) -> None:
    first = add(sessions, id="portal-1")
    second = add(sessions, T0 + timedelta(minutes=1), details="new_laptop", source="slack")

    assert [first.number, second.number] == ["REQ-000001", "REQ-000002"]
    assert first.state is RequestState.SUBMITTED
    assert first.type == "password_reset"
    assert first.created_at == first.updated_at == T0
    assert first.due_at == T0 + timedelta(hours=4)
    assert second.due_at == T0 + timedelta(minutes=1, days=5)
    assert (first.source, first.external_id) == ("portal", "portal-1")
    assert (second.source, second.external_id) == ("slack", None)
    assert first.approvals_required == first.approvals == first.completed_steps == []
    assert first.approval_round == 0
    assert first.flow_run_id is None
    assert first.fulfilled_at is None


def test_add_then_get_returns_the_same_request_in_utc(sessions: Sessions) -> None:
    submitted_at = datetime(2025, 3, 3, 10, 30, 15, 123456, tzinfo=PARIS)
    added = add(sessions, submitted_at)

    loaded = get(sessions, added.number)

    assert loaded == added
    assert loaded.created_at == submitted_at
    assert loaded.created_at.tzinfo == UTC
    assert loaded.due_at.tzinfo == UTC
    assert loaded.created_at.hour == 9


@pytest.mark.parametrize("kind", sorted(DETAILS))
def test_every_catalogue_item_round_trips(sessions: Sessions, kind: str) -> None:
    added = add(sessions, details=kind)

    loaded = get(sessions, added.number)

    assert type(loaded.details) is type(DETAILS[kind])
    assert loaded.details == DETAILS[kind]
    assert loaded.type == kind
    with sessions.begin() as session:
        assert [r.number for r in RequestRepository(session).list(type=kind)] == [added.number]


def test_a_rolled_back_add_leaves_nothing(sessions: Sessions) -> None:
    with pytest.raises(RuntimeError, match="flow failed"), sessions.begin() as session:
        RequestRepository(session).add(submission(), source="portal", at=T0)
        raise RuntimeError("flow failed")

    with sessions.begin() as session:
        assert RequestRepository(session).list() == []


def test_save_round_trips_every_field(sessions: Sessions) -> None:
    submitted = add(sessions, details="new_laptop", id="portal-7")
    later = T0 + timedelta(hours=2)
    approvals = [
        Approval(
            kind=ApprovalKind.FINANCIAL,
            approver="finance@example.com",
            approved=True,
            comment="Within budget.",
            at=datetime(2025, 3, 3, 10, 15, 0, 250000, tzinfo=PARIS),
        ),
        Approval(kind=ApprovalKind.MANAGER, approver="bob", approved=False, at=later),
    ]
    changed = submitted.model_copy(
        update={
            "requester": "erin@example.com",
            "details": DETAILS["access_grant"],
            "state": RequestState.FAILED,
            "source": "slack",
            "external_id": "slack-99",
            "approvals_required": [ApprovalKind.MANAGER, ApprovalKind.SYSTEM_OWNER],
            "approvals": approvals,
            "approval_requested_at": T0 + timedelta(minutes=5),
            "approval_due_at": T0 + timedelta(hours=8),
            "approval_escalated_at": T0 + timedelta(hours=9),
            "approval_round": 2,
            "completed_steps": ["order_hardware", "hand_over_hardware"],
            "error": "provide_access: payroll API timed out",
            "rejection_reason": "an older rejection",
            "flow_run_id": "0b6f3c9e-3f5e-4d58-9f7a-9f2b1c3d4e5f",
            "updated_at": later.astimezone(PARIS),
            "due_at": T0 + timedelta(days=1),
            "fulfilled_at": T0 + timedelta(hours=3),
            "closed_at": T0 + timedelta(hours=4),
        }
    )
    # Every field but the two fixed at submission is changed, so a field the repository
    # forgets to write back (or one added to ServiceRequest later) fails here.
    unchanged = {
        name
        for name in ServiceRequest.model_fields
        if getattr(changed, name) == getattr(submitted, name)
    }
    assert unchanged == {"number", "created_at"}

    saved = save(sessions, changed)
    loaded = get(sessions, submitted.number)

    assert saved == changed
    assert loaded == changed
    assert loaded.type == "access_grant"
    assert loaded.updated_at.tzinfo == UTC
    assert [a.at.tzinfo for a in loaded.approvals] == [UTC, UTC]
    assert loaded.approvals[0].at == approvals[0].at
    assert loaded.pending_approval() is ApprovalKind.MANAGER
    with sessions.begin() as session:
        repository = RequestRepository(session)
        assert repository.find_external("slack", "slack-99") == changed
        assert repository.find_external("portal", "portal-7") is None


def test_save_clears_what_the_model_no_longer_has(sessions: Sessions) -> None:
    submitted = add(sessions)
    update(
        sessions,
        submitted,
        approvals_required=[ApprovalKind.MANAGER],
        approvals=[Approval(kind=ApprovalKind.MANAGER, approver="bob", approved=True, at=T0)],
        approval_due_at=T0,
        completed_steps=["reset_password"],
        error="boom",
        flow_run_id="run",
        closed_at=T0,
    )

    save(sessions, submitted)

    assert get(sessions, submitted.number) == submitted


def test_a_naive_approval_instant_is_refused(sessions: Sessions) -> None:
    submitted = add(sessions)
    naive = Approval(
        kind=ApprovalKind.MANAGER, approver="bob", approved=True, at=datetime(2025, 3, 3, 9)
    )
    with pytest.raises(ValueError, match="naive datetime"):
        update(sessions, submitted, approvals=[naive])


def test_get_and_save_of_an_unknown_number_raise_record_not_found(sessions: Sessions) -> None:
    with pytest.raises(RecordNotFound) as raised:
        get(sessions, "REQ-000042")
    assert str(raised.value) == "no request REQ-000042"
    assert (raised.value.kind, raised.value.number) == ("request", "REQ-000042")

    ghost = add(sessions).model_copy(update={"number": "REQ-000042"})
    with pytest.raises(RecordNotFound, match="no request REQ-000042"):
        save(sessions, ghost)


def test_get_for_update_reads_the_row_again(sessions: Sessions) -> None:
    submitted = add(sessions)
    with sessions.begin() as session:
        repository = RequestRepository(session)
        repository.get(submitted.number)

        update(sessions, submitted, flow_run_id="run-2")

        assert repository.get(submitted.number, for_update=True).flow_run_id == "run-2"


@pytest.mark.postgres
def test_get_for_update_locks_the_row_on_postgres(postgres_sessions: Sessions) -> None:
    """SQLite has a single writer, so only PostgreSQL has a row lock to show."""
    sessions = postgres_sessions
    submitted = add(sessions)
    with sessions.begin() as holder, sessions() as contender:
        RequestRepository(holder).get(submitted.number, for_update=True)
        contender.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            RequestRepository(contender).get(submitted.number, for_update=True)


# --------------------------------------------------------------------------- external ids


def test_find_external_by_source_and_id(sessions: Sessions) -> None:
    portal = add(sessions, id="X-1", source="portal")
    slack = add(sessions, id="X-1", source="slack")  # the same id from another source
    add(sessions, source="portal")  # no external id

    with sessions.begin() as session:
        repository = RequestRepository(session)
        assert repository.find_external("portal", "X-1") == portal
        assert repository.find_external("slack", "X-1") == slack
        assert repository.find_external("portal", "X-2") is None
        assert repository.find_external("email", "X-1") is None


def test_an_external_id_is_recorded_once_per_source(sessions: Sessions) -> None:
    add(sessions, id="X-1")
    with pytest.raises(IntegrityError), sessions.begin() as session:
        RequestRepository(session).add(submission(id="X-1"), source="portal", at=T0)

    # Requests without an external id never collide.
    add(sessions)
    add(sessions)
    with sessions.begin() as session:
        assert len(RequestRepository(session).list()) == 3
