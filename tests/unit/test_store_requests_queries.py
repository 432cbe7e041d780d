"""RequestRepository's reads of many requests on SQLite and PostgreSQL: the list filters and
paging, and the two sweeps (unsubmitted requests, overdue approvals), each case at its edge."""

from datetime import datetime, timedelta

from serviceops.domain.request import RequestState
from serviceops.store.request import RequestRepository
from tests.unit.store_requests_support import PARIS, T0, Sessions, add, get, update

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
