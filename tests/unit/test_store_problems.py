"""ProblemRepository on SQLite and PostgreSQL: problems and their links, trend detection on
made-up incident histories (threshold and window edges, each dimension, major incidents), and
recording trends as problems: idempotent, one problem per open trend, also under concurrency.
"""

import itertools
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.incident import IncidentDraft
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.problem import (
    Problem,
    ProblemDraft,
    ProblemSource,
    ProblemState,
    Trend,
    TrendRule,
)
from serviceops.store.base import RecordNotFound
from serviceops.store.incident import IncidentRepository
from serviceops.store.problem import ProblemRepository, RecordedTrend, TrendRepository

Sessions = sessionmaker[Session]

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
RULE = TrendRule(min_incidents=3, window=timedelta(days=7))


_unique = itertools.count(1)


def incident(
    sessions: Sessions,
    at: datetime,
    *,
    service: str = "mail",
    ci: str | None = None,
    category: str | None = None,
    major: bool = False,
    title: str = "Mail bounces",
) -> str:
    """An incident logged at `at`; without a category, one of its own (so that only the
    dimensions a test sets up form trends)."""
    draft = IncidentDraft(
        title=title,
        service=service,
        ci=ci,
        category=category or f"misc/{next(_unique)}",
        impact=Impact.MEDIUM,
        urgency=Urgency.MEDIUM,
        reporter="alice@example.com",
        major=major,
    )
    with sessions.begin() as session:
        return IncidentRepository(session).add(draft, at).number


def incidents(sessions: Sessions, count: int, at: datetime, **fields: object) -> list[str]:
    """`count` incidents an hour apart, the last at `at`."""
    return [
        incident(sessions, at - timedelta(hours=count - 1 - i), **fields)  # type: ignore[arg-type]
        for i in range(count)
    ]


def detect(sessions: Sessions, rule: TrendRule = RULE, now: datetime = NOW) -> list[Trend]:
    with sessions.begin() as session:
        return TrendRepository(session).detect(rule, now)


def keys(trends: Sequence[Trend]) -> list[tuple[str, int]]:
    return [(trend.key, trend.count) for trend in trends]


def record(
    sessions: Sessions, rule: TrendRule = RULE, now: datetime = NOW
) -> list[tuple[str, bool]]:
    """(problem, opened by this run) per trend."""
    return pairs(record_all(sessions, rule, now))


def pairs(recorded: list[RecordedTrend]) -> list[tuple[str, bool]]:
    return [(r.number, r.created) for r in recorded]


def record_all(
    sessions: Sessions, rule: TrendRule = RULE, now: datetime = NOW
) -> list[RecordedTrend]:
    with sessions.begin() as session:
        repository = TrendRepository(session)
        return repository.record(repository.detect(rule, now), rule, now)


def get(sessions: Sessions, number: str) -> Problem:
    with sessions.begin() as session:
        return ProblemRepository(session).get(number)


def add(sessions: Sessions, title: str = "Mail bounces", **fields: object) -> Problem:
    with sessions.begin() as session:
        return ProblemRepository(session).add(
            ProblemDraft(title=title, service="mail"), ProblemSource.MANUAL, NOW, **fields
        )  # type: ignore[arg-type]


def close(sessions: Sessions, number: str, at: datetime = NOW) -> None:
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        problem = repository.get(number)
        repository.save(
            problem.model_copy(
                update={"state": ProblemState.CLOSED, "closed_at": at, "resolved_at": at}
            )
        )


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


# --------------------------------------------------------------------------- detection


def test_no_incidents_no_trends(sessions: Sessions) -> None:
    assert detect(sessions) == []
    assert record(sessions) == []


def test_threshold_edge(sessions: Sessions) -> None:
    incidents(sessions, 2, NOW, service="mail", category="a")
    assert detect(sessions) == []  # N-1

    incident(sessions, NOW, service="mail", category="b")
    (trend,) = detect(sessions)  # N
    assert (trend.dimension, trend.value, trend.count) == ("service", "mail", 3)
    assert (trend.first_at, trend.last_at) == (NOW - timedelta(hours=1), NOW)
    assert trend.incident_numbers == []


def test_window_edges(sessions: Sessions) -> None:
    since = NOW - RULE.window
    incidents(sessions, 2, NOW, service="mail")
    incident(sessions, since - timedelta(microseconds=1), service="mail")  # just outside
    incident(sessions, NOW + timedelta(microseconds=1), service="mail")  # after now
    assert detect(sessions) == []

    incident(sessions, since, service="mail")  # on the edge: inside
    (trend,) = detect(sessions)
    assert (trend.key, trend.count, trend.first_at) == ("service:mail", 3, since)


def test_each_dimension_on_its_own(sessions: Sessions) -> None:
    # 4 on service mail over two CIs and two categories; 3 on CI db-01 over three services
    incidents(sessions, 2, NOW, service="mail", ci="mx-1", category="software/mail")
    incidents(sessions, 2, NOW, service="mail", ci="mx-2", category="software/mail/smtp")
    incident(sessions, NOW, service="erp", ci="db-01", category="software/mail")
    incident(sessions, NOW, service="crm", ci="db-01", category="database")
    incident(sessions, NOW, service="hr", ci="db-01", category="database")
    incidents(sessions, 3, NOW, service="wiki", ci=None, category="software/wiki")

    assert keys(detect(sessions)) == [
        ("service:mail", 4),
        ("service:wiki", 3),
        ("ci:db-01", 3),  # incidents without a CI make no CI trend
        ("category:software/mail", 3),  # categories group exactly, not by prefix
        ("category:software/wiki", 3),
    ]
    ci_only = TrendRule(min_incidents=3, dimensions=["ci"])
    assert keys(detect(sessions, ci_only)) == [("ci:db-01", 3)]
    higher = TrendRule(min_incidents=4, dimensions=["service", "category"])
    assert keys(detect(sessions, higher)) == [("service:mail", 4)]


def test_major_incidents_in_the_window_are_trends_of_their_own(sessions: Sessions) -> None:
    old = incident(sessions, NOW - RULE.window - DAY, major=True)
    first = incident(
        sessions, NOW - DAY, service="erp", ci="db-01", category="erp", major=True, title="ERP down"
    )
    second = incident(sessions, NOW - timedelta(hours=1), service="crm", major=True)
    incident(sessions, NOW, service="hr")

    trends = detect(sessions)
    assert keys(trends) == [(f"major:{first}", 1), (f"major:{second}", 1)]
    assert old not in {trend.value for trend in trends}
    assert trends[0].model_dump(exclude={"first_at", "last_at"}) == {
        "dimension": "major",
        "value": first,
        "count": 1,
        "incident_numbers": [first],
        "summary": "ERP down",
        "service": "erp",
        "ci": "db-01",
        "category": "erp",
    }
    assert detect(sessions, TrendRule(include_major=False)) == []


# --------------------------------------------------------------------------- recording


def test_record_trends_opens_problems_and_links_their_incidents(sessions: Sessions) -> None:
    mail = incidents(sessions, 3, NOW, service="mail")
    major = incident(sessions, NOW, service="erp", major=True, title="ERP down")

    recorded = record_all(sessions)
    assert [(r.number, r.created) for r in recorded] == [("PRB-000001", True), ("PRB-000002", True)]
    assert all(isinstance(item, RecordedTrend) for item in recorded)

    trend_problem = get(sessions, "PRB-000001")
    assert trend_problem.model_dump(
        include={"title", "state", "source", "trend_key", "service", "ci", "category", "major"}
    ) == {
        "title": "Recurring incidents on service mail",
        "state": "new",
        "source": "trend",
        "trend_key": "service:mail",
        "service": "mail",
        "ci": None,
        "category": None,
        "major": False,
    }
    assert (trend_problem.frequency, trend_problem.incident_numbers) == (3, mail)
    assert trend_problem.created_at == NOW

    major_problem = get(sessions, "PRB-000002")
    assert (major_problem.source, major_problem.major, major_problem.trend_key) == (
        "major_incident",
        True,
        f"major:{major}",
    )
    assert (major_problem.title, major_problem.service, major_problem.impact) == (
        f"Major incident {major}: ERP down",
        "erp",
        "high",
    )
    assert major_problem.incident_numbers == [major]


def test_recording_again_opens_nothing_and_links_new_incidents(sessions: Sessions) -> None:
    first = incidents(sessions, 3, NOW - DAY, service="mail")
    assert record(sessions, now=NOW - DAY) == [("PRB-000001", True)]
    assert record(sessions, now=NOW - DAY) == [("PRB-000001", False)]
    assert get(sessions, "PRB-000001").frequency == 3

    newer = incidents(sessions, 2, NOW, service="mail")
    assert record(sessions) == [("PRB-000001", False)]
    problem = get(sessions, "PRB-000001")
    assert (problem.frequency, problem.incident_numbers) == (5, first + newer)
    assert problem.updated_at == NOW
    with sessions.begin() as session:
        assert len(ProblemRepository(session).list()) == 1


def test_an_incident_in_several_trends_is_linked_to_each(sessions: Sessions) -> None:
    numbers = incidents(sessions, 3, NOW, service="mail", ci="mx-1", category="software/mail")
    recorded = record(sessions)
    assert [get(sessions, number).trend_key for number, _ in recorded] == [
        "service:mail",
        "ci:mx-1",
        "category:software/mail",
    ]
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        for problem in ("PRB-000001", "PRB-000002", "PRB-000003"):
            assert numbers[0] in repository.incidents_of(problem)


def test_a_resolved_problem_keeps_its_trend_a_closed_one_frees_it(sessions: Sessions) -> None:
    incidents(sessions, 3, NOW - 2 * DAY, service="mail")
    (first,) = record_all(sessions, now=NOW - 2 * DAY)
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        problem = repository.get(first.number)
        repository.save(problem.model_copy(update={"state": "resolved", "resolved_at": NOW - DAY}))

    incident(sessions, NOW - DAY, service="mail")
    assert record(sessions, now=NOW - DAY) == [(first.number, False)]
    assert get(sessions, first.number).frequency == 4

    close(sessions, first.number, NOW - DAY)
    recurred = incident(sessions, NOW, service="mail")
    (second,) = record_all(sessions)
    assert second.created and second.number != first.number
    reopened = get(sessions, second.number)
    assert reopened.trend_key == "service:mail"
    # the window still holds the old incidents: the new problem sees the whole recent history
    assert reopened.frequency == 5 and reopened.incident_numbers[-1] == recurred
    assert get(sessions, first.number).frequency == 4


def test_concurrent_recording_opens_one_problem(sessions: Sessions) -> None:
    incidents(sessions, 4, NOW, service="mail")
    trends = detect(sessions)
    start = threading.Barrier(2)
    results: list[list[RecordedTrend]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            with sessions.begin() as session:
                results.append(pairs(TrendRepository(session).record(trends, RULE, NOW)))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results) == [[("PRB-000001", False)], [("PRB-000001", True)]]
    with sessions.begin() as session:
        (problem,) = ProblemRepository(session).list()
    assert problem.frequency == 4


def test_a_run_waits_for_the_one_in_progress_and_joins_its_problem(sessions: Sessions) -> None:
    """Deterministic interleaving: the first run has opened the problem and not committed
    yet when the second starts; the second must wait, then find that problem."""
    incidents(sessions, 3, NOW, service="mail")
    trends = detect(sessions)
    first_recorded = threading.Event()
    results: dict[str, list[RecordedTrend]] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with sessions.begin() as session:
                results["first"] = pairs(TrendRepository(session).record(trends, RULE, NOW))
                first_recorded.set()
                time.sleep(0.5)  # the transaction stays open while the second run starts
        except BaseException as error:
            errors.append(error)
            first_recorded.set()

    def second() -> None:
        try:
            first_recorded.wait(timeout=10)
            with sessions.begin() as session:
                results["second"] = pairs(TrendRepository(session).record(trends, RULE, NOW))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert results == {"first": [("PRB-000001", True)], "second": [("PRB-000001", False)]}
    assert get(sessions, "PRB-000001").frequency == 3


def test_a_trend_given_twice_in_one_call_opens_one_problem(sessions: Sessions) -> None:
    incidents(sessions, 3, NOW, service="mail")
    (trend,) = detect(sessions)
    with sessions.begin() as session:
        recorded = pairs(TrendRepository(session).record([trend, trend], RULE, NOW))
    assert recorded == [("PRB-000001", True), ("PRB-000001", False)]
    assert get(sessions, "PRB-000001").frequency == 3


def test_a_run_says_which_problems_gained_incidents(sessions: Sessions) -> None:
    incidents(sessions, 3, NOW - timedelta(hours=2), service="mail")
    incidents(sessions, 3, NOW - timedelta(hours=2), service="vpn")
    first = record_all(sessions)
    assert all(r.created and r.grew for r in first)
    incidents(sessions, 1, NOW - timedelta(minutes=5), service="mail")
    second = {get(sessions, r.number).trend_key: r for r in record_all(sessions)}
    assert [key for key, r in second.items() if r.grew] == ["service:mail"]
    assert not any(r.created for r in second.values())


def test_a_problem_read_without_its_incidents_keeps_its_frequency(sessions: Sessions) -> None:
    incidents(sessions, 3, NOW - timedelta(hours=2), service="mail")
    (number, _), *_ = record(sessions)
    with sessions.begin() as session:
        light = ProblemRepository(session).get(number, with_incidents=False)
        full = ProblemRepository(session).get(number)
    assert light.incident_numbers == [] and light.frequency == 3
    assert len(full.incident_numbers) == 3
    assert light == full.model_copy(update={"incident_numbers": []})
