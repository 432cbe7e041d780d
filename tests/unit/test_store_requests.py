"""RequestRepository and DeliveryRepository on SQLite and PostgreSQL: numbering, the full
round trip of the model (every catalogue item), external ids, the list filters, the two
sweeps (unsubmitted requests, overdue approvals) and webhook delivery claims, concurrent
ones included."""

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import (
    AccessGrant,
    AccessRevoke,
    Approval,
    ApprovalKind,
    LaptopModel,
    MailboxPermission,
    NewLaptop,
    PasswordReset,
    RequestState,
    RequestSubmission,
    ServiceRequest,
    SharedMailbox,
    SoftwareInstall,
    VpnAccess,
)
from serviceops.store.base import RecordNotFound
from serviceops.store.db import normalise_url
from serviceops.store.request import (
    DeliveryRepository,
    RequestRepository,
    StoredAnswer,
    UnansweredDelivery,
)

Sessions = sessionmaker[Session]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")

DETAILS = {
    "new_laptop": NewLaptop(
        model=LaptopModel.DEVELOPER,
        cost=Decimal("1899.90"),
        justification="Builds take an hour on the old one.",
        deliver_to="Alice Martin",
    ),
    "software_install": SoftwareInstall(
        software="JetBrains IDE", version="2025.1", host="lt-0042", licence_cost=Decimal("649")
    ),
    "password_reset": PasswordReset(account="alice.admin"),
    "access_grant": AccessGrant(
        user="alice",
        system="payroll",
        role="viewer",
        until=date(2025, 12, 31),
        justification="Quarter-end audit.",
    ),
    "access_revoke": AccessRevoke(user="bob", system="crm", role="admin", reason="Moved team."),
    "vpn_access": VpnAccess(user="carol", until=None),
    "shared_mailbox": SharedMailbox(
        user="dave", mailbox="support@example.com", permission=MailboxPermission.SEND_AS
    ),
}


def submission(details: str = "password_reset", **changes: object) -> RequestSubmission:
    values: dict[str, object] = {"requester": "alice@example.com", "details": DETAILS[details]}
    values.update(changes)
    return RequestSubmission.model_validate(values)


def add(
    sessions: Sessions,
    at: datetime = T0,
    details: str = "password_reset",
    source: str = "portal",
    **changes: object,
) -> ServiceRequest:
    with sessions.begin() as session:
        return RequestRepository(session).add(submission(details, **changes), source=source, at=at)


def get(sessions: Sessions, number: str) -> ServiceRequest:
    with sessions.begin() as session:
        return RequestRepository(session).get(number)


def save(sessions: Sessions, request: ServiceRequest) -> ServiceRequest:
    with sessions.begin() as session:
        return RequestRepository(session).save(request)


def update(sessions: Sessions, request: ServiceRequest, **changes: object) -> ServiceRequest:
    return save(sessions, request.model_copy(update=changes))


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


# --------------------------------------------------------------------------- list


def test_list_is_newest_first_and_pages(sessions: Sessions) -> None:
    a = add(sessions, T0)
    b = add(sessions, T0 + timedelta(hours=1))
    c = add(sessions, T0 + timedelta(hours=1))  # same instant as b: submitted after it
    d = add(sessions, T0 - timedelta(days=1))  # back-dated, submitted last

    with sessions.begin() as session:
        repository = RequestRepository(session)
        numbers = [r.number for r in repository.list()]
        page = [r.number for r in repository.list(limit=2, offset=1)]

    assert numbers == [c.number, b.number, a.number, d.number]
    assert page == [b.number, a.number]


def test_list_filters_by_state_type_and_requester(sessions: Sessions) -> None:
    alice_reset = add(sessions, details="password_reset", requester="alice")
    alice_laptop = add(sessions, details="new_laptop", requester="alice")
    bob_reset = add(sessions, details="password_reset", requester="bob")
    update(sessions, alice_laptop, state=RequestState.AWAITING_APPROVAL)
    update(sessions, bob_reset, state=RequestState.AWAITING_APPROVAL)

    def numbers(**filters: object) -> list[str]:
        with sessions.begin() as session:
            return [r.number for r in RequestRepository(session).list(**filters)]  # type: ignore[arg-type]

    assert numbers(requester="alice") == [alice_laptop.number, alice_reset.number]
    assert numbers(type="password_reset") == [bob_reset.number, alice_reset.number]
    assert numbers(state=RequestState.AWAITING_APPROVAL) == [bob_reset.number, alice_laptop.number]
    assert numbers(state=RequestState.SUBMITTED) == [alice_reset.number]
    assert numbers(
        state=RequestState.AWAITING_APPROVAL, type="password_reset", requester="bob"
    ) == [bob_reset.number]
    assert numbers(requester="carol") == []


# --------------------------------------------------------------------------- sweeps

NOW = T0 + timedelta(hours=5)
PAST, FUTURE = NOW - timedelta(minutes=10), NOW + timedelta(minutes=10)

# name: (created_at, changes, picked by unsubmitted(NOW))
UNSUBMITTED_CASES: dict[str, tuple[datetime, dict[str, object], bool]] = {
    "submitted long ago, no run": (PAST - timedelta(hours=1), {}, True),
    "submitted exactly at the cut-off": (NOW, {}, True),
    "submitted just now": (FUTURE, {}, False),
    "picked up by a run": (PAST, {"flow_run_id": "run-1"}, False),
    "moved on without a run id": (PAST, {"state": RequestState.APPROVED}, False),
    "rejected": (PAST, {"state": RequestState.REJECTED}, False),
    "submitted a while ago, no run": (PAST, {}, True),
}


def test_unsubmitted_picks_exactly_the_requests_no_run_took(sessions: Sessions) -> None:
    numbers: dict[str, str] = {}
    for name, (created_at, changes, _) in UNSUBMITTED_CASES.items():
        request = add(sessions, created_at, id=name)
        if changes:
            update(sessions, request, **changes)
        numbers[name] = request.number

    with sessions.begin() as session:
        picked = RequestRepository(session).unsubmitted(NOW.astimezone(PARIS))

    # Oldest first: by created_at.
    expected = sorted(
        (case[0], numbers[name]) for name, case in UNSUBMITTED_CASES.items() if case[2]
    )
    assert [r.number for r in picked] == [number for _, number in expected]


def test_unsubmitted_honours_the_limit_oldest_first(sessions: Sessions) -> None:
    newer = add(sessions, PAST)
    older = add(sessions, PAST - timedelta(hours=1))
    add(sessions, PAST - timedelta(minutes=30))

    with sessions.begin() as session:
        picked = RequestRepository(session).unsubmitted(NOW, limit=2)

    assert len(picked) == 2
    assert picked[0].number == older.number
    assert newer.number not in [r.number for r in picked]


# name: (changes, picked by approvals_overdue(NOW))
AWAITING = RequestState.AWAITING_APPROVAL
OVERDUE_CASES: dict[str, tuple[dict[str, object], bool]] = {
    "overdue, not chased": ({"state": AWAITING, "approval_due_at": PAST}, True),
    "due exactly now": ({"state": AWAITING, "approval_due_at": NOW}, True),
    "long overdue": ({"state": AWAITING, "approval_due_at": PAST - timedelta(days=1)}, True),
    "not due yet": ({"state": AWAITING, "approval_due_at": FUTURE}, False),
    "overdue, chased already": (
        {"state": AWAITING, "approval_due_at": PAST, "approval_escalated_at": PAST},
        False,
    ),
    "awaiting, never asked": ({"state": AWAITING}, False),
    "approved since": ({"state": RequestState.APPROVED, "approval_due_at": PAST}, False),
    "rejected since": ({"state": RequestState.REJECTED, "approval_due_at": PAST}, False),
    "submitted": ({}, False),
}


def test_approvals_overdue_picks_exactly_the_approvals_to_chase(sessions: Sessions) -> None:
    numbers: dict[str, str] = {}
    for name, (changes, _) in OVERDUE_CASES.items():
        request = add(sessions, id=name)
        if changes:
            update(sessions, request, **changes)
        numbers[name] = request.number

    with sessions.begin() as session:
        overdue = RequestRepository(session).approvals_overdue(NOW.astimezone(PARIS))

    # Longest overdue first.
    assert [r.number for r in overdue] == [
        numbers["long overdue"],
        numbers["overdue, not chased"],
        numbers["due exactly now"],
    ]


def test_a_chased_approval_leaves_the_sweep_until_asked_again(sessions: Sessions) -> None:
    request = update(sessions, add(sessions), state=AWAITING, approval_due_at=PAST)
    with sessions.begin() as session:
        repository = RequestRepository(session)
        (overdue,) = repository.approvals_overdue(NOW)
        repository.save(overdue.model_copy(update={"approval_escalated_at": NOW}))

    with sessions.begin() as session:
        assert RequestRepository(session).approvals_overdue(NOW) == []

    update(
        sessions, get(sessions, request.number), approval_due_at=FUTURE, approval_escalated_at=None
    )
    with sessions.begin() as session:
        repository = RequestRepository(session)
        assert repository.approvals_overdue(NOW) == []
        assert [r.number for r in repository.approvals_overdue(FUTURE)] == [request.number]


# --------------------------------------------------------------------------- deliveries


def claim(sessions: Sessions, source: str, key: str, answer: int | None = 202) -> object:
    """One delivery, the way the gateway does it: claim, and answer in the same transaction."""
    with sessions.begin() as session:
        deliveries = DeliveryRepository(session)
        stored = deliveries.claim(source, key, T0)
        if stored is None and answer is not None:
            deliveries.answer(source, key, answer, {"number": f"REQ-{key}", "source": source})
        return stored


def test_the_first_claim_wins_and_duplicates_get_its_answer(sessions: Sessions) -> None:
    assert claim(sessions, "portal", "k1") is None

    again = claim(sessions, "portal", "k1", answer=500)

    assert again == StoredAnswer(status=202, body={"number": "REQ-k1", "source": "portal"})
    assert claim(sessions, "portal", "k1") == again


def test_keys_are_per_source(sessions: Sessions) -> None:
    assert claim(sessions, "portal", "k1") is None
    assert claim(sessions, "hr", "k1") is None
    assert claim(sessions, "portal", "k2") is None

    assert claim(sessions, "hr", "k1") == StoredAnswer(
        status=202, body={"number": "REQ-k1", "source": "hr"}
    )


def test_answer_replaces_the_stored_answer(sessions: Sessions) -> None:
    with sessions.begin() as session:
        deliveries = DeliveryRepository(session)
        assert deliveries.claim("portal", "k1", T0) is None
        deliveries.answer("portal", "k1", 202, {"number": "REQ-000001"})
        deliveries.answer("portal", "k1", 202, {"number": "REQ-000001", "flow_run_id": "r1"})

    assert claim(sessions, "portal", "k1") == StoredAnswer(
        status=202, body={"number": "REQ-000001", "flow_run_id": "r1"}
    )
    with sessions.begin() as session:
        DeliveryRepository(session).answer("portal", "k1", 422, {})
    assert claim(sessions, "portal", "k1") == StoredAnswer(status=422, body={})


def test_answering_an_unclaimed_key_raises(sessions: Sessions) -> None:
    with pytest.raises(RecordNotFound, match="no delivery portal/k1"), sessions.begin() as session:
        DeliveryRepository(session).answer("portal", "k1", 202, {})


def test_a_rolled_back_claim_leaves_the_key_free(sessions: Sessions) -> None:
    with pytest.raises(RuntimeError, match="work failed"), sessions.begin() as session:
        assert DeliveryRepository(session).claim("portal", "k1", T0) is None
        raise RuntimeError("work failed")

    assert claim(sessions, "portal", "k1") is None


def test_a_claim_committed_without_an_answer_is_not_made_up(sessions: Sessions) -> None:
    assert claim(sessions, "portal", "k1", answer=None) is None

    with pytest.raises(UnansweredDelivery, match="portal/k1"):
        claim(sessions, "portal", "k1")


def test_concurrent_duplicates_get_the_first_answer(database_url: str) -> None:
    """20 deliveries of one key at once, each in its own transaction that answers before it
    commits: one does the work, the 19 others wait for it and replay its answer.

    PostgreSQL: the other INSERTs block on the winner's uncommitted row. SQLite: they wait
    for the write lock (busy_timeout), which the winner holds until it commits."""
    threads = 20
    engine = create_engine(normalise_url(database_url), pool_size=threads, max_overflow=0)
    sessions = sessionmaker(engine, expire_on_commit=False)
    start = threading.Barrier(threads)
    results: list[StoredAnswer | None] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def deliver(index: int) -> None:
        try:
            with sessions.begin() as session:
                session.execute(text("SELECT 1"))  # connect before the race starts
                # (on SQLite a SELECT opens no transaction, so the claim still comes first)
                start.wait()
                deliveries = DeliveryRepository(session)
                stored = deliveries.claim("portal", "same-key", T0)
                if stored is None:
                    time.sleep(0.3)  # hold the claim: the others must block on it
                    deliveries.answer("portal", "same-key", 202, {"winner": index})
            with lock:
                results.append(stored)
        except BaseException as error:  # reported by the main thread
            with lock:
                errors.append(error)

    workers = [threading.Thread(target=deliver, args=(i,)) for i in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    finally:
        engine.dispose()

    assert errors == []
    winners = [r for r in results if r is None]
    answers = [r for r in results if r is not None]
    assert len(results) == threads
    assert len(winners) == 1
    assert len(answers) == threads - 1
    assert len({a.model_dump_json() for a in answers}) == 1
    assert answers[0].status == 202
    assert set(answers[0].body) == {"winner"}
