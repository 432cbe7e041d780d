"""ProblemRepository on SQLite and PostgreSQL: problem records (numbering, the round trip of
every step field, the list, one open problem per trend key) and their links to incidents,
which the store counts into the frequency."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.problem import Problem, ProblemDraft, ProblemSource, ProblemState
from serviceops.store.base import RecordNotFound
from serviceops.store.problem import ProblemRepository
from tests.unit.store_problems_support import DAY, NOW, Sessions, close, get, incidents


def add(sessions: Sessions, title: str = "Mail bounces", **fields: object) -> Problem:
    with sessions.begin() as session:
        return ProblemRepository(session).add(
            ProblemDraft(title=title, service="mail"), ProblemSource.MANUAL, NOW, **fields
        )  # type: ignore[arg-type]


# --------------------------------------------------------------------------- records


def test_add_numbers_in_sequence_and_get_round_trips(sessions: Sessions) -> None:
    draft = ProblemDraft(
        title="VPN drops for the Lyon office",
        description="Seen in 4 incidents",
        service="vpn",
        ci="vpn-gw-2",
        category="Network/VPN",
        impact=Impact.HIGH,
        urgency=Urgency.LOW,
        reporter="bob",
    )
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        first = repository.add(draft, ProblemSource.MANUAL, NOW)
        second = repository.add(draft, ProblemSource.TREND, NOW, trend_key="ci:x", major=True)

    assert [first.number, second.number] == ["PRB-000001", "PRB-000002"]
    assert first == Problem(
        number="PRB-000001",
        title="VPN drops for the Lyon office",
        description="Seen in 4 incidents",
        state=ProblemState.NEW,
        source=ProblemSource.MANUAL,
        service="vpn",
        ci="vpn-gw-2",
        category="network/vpn",
        impact=Impact.HIGH,
        urgency=Urgency.LOW,
        reporter="bob",
        created_at=NOW,
        updated_at=NOW,
    )
    assert get(sessions, "PRB-000001") == first
    assert (second.trend_key, second.major, second.source) == ("ci:x", True, "trend")


def test_get_unknown_raises_record_not_found(sessions: Sessions) -> None:
    with sessions.begin() as session, pytest.raises(RecordNotFound) as raised:
        ProblemRepository(session).get("PRB-000099")
    assert str(raised.value) == "no problem PRB-000099"


def test_save_writes_every_step_field_back(sessions: Sessions) -> None:
    added = add(sessions)
    later = NOW + DAY
    changed = added.model_copy(
        update={
            "title": "Mailbox quota",
            "description": "d",
            "state": ProblemState.CLOSED,
            "ci": "mx-1",
            "category": "software/mail",
            "impact": Impact.LOW,
            "urgency": Urgency.HIGH,
            "priority": Priority.MEDIUM,
            "major": True,
            "root_cause": "quota",
            "investigation_notes": "notes",
            "workaround": "purge",
            "known_error_number": "KE-000001",
            "change_ref": "CHG-1",
            "resolution": "raised",
            "review_summary": "ok",
            "review_lessons": "alert",
            "updated_at": later,
            "resolved_at": later,
            "closed_at": later,
            "reviewed_at": later,
        }
    )
    with sessions.begin() as session:
        saved = ProblemRepository(session).save(changed)
    assert saved == changed
    assert get(sessions, added.number) == changed


def test_save_does_not_overwrite_the_store_kept_frequency_and_links(sessions: Sessions) -> None:
    added = add(sessions)
    numbers = incidents(sessions, 2, NOW)
    with sessions.begin() as session:
        ProblemRepository(session).link(added.number, numbers, NOW)
    stale = added.model_copy(update={"title": "Renamed", "updated_at": NOW + DAY})
    with sessions.begin() as session:
        saved = ProblemRepository(session).save(stale)
    assert (saved.title, saved.frequency, saved.incident_numbers) == ("Renamed", 2, numbers)


def test_save_unknown_raises_record_not_found(sessions: Sessions) -> None:
    ghost = add(sessions).model_copy(update={"number": "PRB-000099"})
    with sessions.begin() as session, pytest.raises(RecordNotFound):
        ProblemRepository(session).save(ghost)


def test_list_newest_first_by_state_with_paging(sessions: Sessions) -> None:
    numbers = [add(sessions, f"problem {i}").number for i in range(4)]
    close(sessions, numbers[1])
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        assert [p.number for p in repository.list()] == numbers[::-1]
        assert [p.number for p in repository.list(state=ProblemState.NEW)] == [
            numbers[3],
            numbers[2],
            numbers[0],
        ]
        assert [p.number for p in repository.list(state=ProblemState.CLOSED)] == [numbers[1]]
        assert [p.number for p in repository.list(limit=2, offset=1)] == [numbers[2], numbers[1]]


def test_list_leaves_links_out_unless_asked(sessions: Sessions) -> None:
    problem = add(sessions)
    linked = incidents(sessions, 2, NOW)
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        repository.link(problem.number, linked, NOW)
        (plain,) = repository.list()
        (full,) = repository.list(with_incidents=True)
    assert (plain.frequency, plain.incident_numbers) == (2, [])
    assert (full.frequency, full.incident_numbers) == (2, linked)


def test_an_open_trend_key_is_owned_by_one_problem_until_closed(sessions: Sessions) -> None:
    first = add(sessions, trend_key="service:mail")
    with pytest.raises(IntegrityError), sessions.begin() as session:
        ProblemRepository(session).add(
            ProblemDraft(title="again"), ProblemSource.TREND, NOW, trend_key="service:mail"
        )
    close(sessions, first.number)
    second = add(sessions, trend_key="service:mail")
    with sessions.begin() as session:
        owners = [
            problem.number
            for problem in ProblemRepository(session).list()
            if problem.trend_key == "service:mail" and problem.closed_at is None
        ]
    assert owners == [second.number] and second.number != first.number


# --------------------------------------------------------------------------- links


def test_link_counts_new_links_and_recounts_the_frequency(sessions: Sessions) -> None:
    problem = add(sessions)
    a, b, c = incidents(sessions, 3, NOW)
    later = NOW + timedelta(hours=1)
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        assert repository.link(problem.number, [a, b, a], NOW) == 2
        assert repository.link(problem.number, [b, c], later) == 1
        assert repository.link(problem.number, [], later) == 0
        stored = repository.get(problem.number)
    assert (stored.frequency, stored.incident_numbers) == (3, [a, b, c])
    assert stored.updated_at == later


def test_link_unknown_incident_or_problem_links_nothing(sessions: Sessions) -> None:
    problem = add(sessions)
    (known,) = incidents(sessions, 1, NOW)
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        with pytest.raises(RecordNotFound, match="no incident INC-000099"):
            repository.link(problem.number, [known, "INC-000099"], NOW)
        with pytest.raises(RecordNotFound, match="no problem PRB-000099"):
            repository.link("PRB-000099", [known], NOW)
        assert repository.incidents_of(problem.number) == []
        assert repository.get(problem.number).frequency == 0


def test_an_incident_may_belong_to_several_problems(sessions: Sessions) -> None:
    first, second = add(sessions, "one"), add(sessions, "two")
    (shared,) = incidents(sessions, 1, NOW)
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        repository.link(second.number, [shared], NOW)
        repository.link(first.number, [shared], NOW + DAY)
        assert repository.incidents_of(first.number) == [shared]
        assert repository.incidents_of(second.number) == [shared]
