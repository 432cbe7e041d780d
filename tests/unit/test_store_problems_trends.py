"""TrendRepository on SQLite and PostgreSQL: trend detection on made-up incident histories
(threshold and window edges, each dimension, major incidents), and recording trends as
problems: idempotent, one problem per open trend, also under concurrency.
"""

import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from serviceops.domain.problem import Trend, TrendRule
from serviceops.store.problem import ProblemRepository, RecordedTrend, TrendRepository
from tests.unit.store_problems_support import DAY, NOW, Sessions, close, get, incident, incidents

RULE = TrendRule(min_incidents=3, window=timedelta(days=7))


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


def test_trends_over_the_same_incidents_are_one_problem_with_every_dimension(
    sessions: Sessions,
) -> None:
    numbers = incidents(sessions, 3, NOW, service="mail", ci="mx-1", category="software/mail")
    recorded = record_all(sessions)
    assert [(r.number, r.created) for r in recorded] == [
        ("PRB-000001", True),
        ("PRB-000001", False),
        ("PRB-000001", False),
    ]
    assert [r.joined for r in recorded] == [
        None,
        "The ci mx-1 trend joined it: 3 of its 3 incidents were this problem's.",
        "The category software/mail trend joined it: 3 of its 3 incidents were this problem's.",
    ]
    problem = get(sessions, "PRB-000001")
    assert (problem.service, problem.ci, problem.category) == ("mail", "mx-1", "software/mail")
    assert (problem.trend_key, problem.frequency, problem.incident_numbers) == (
        "service:mail",
        3,
        numbers,
    )
    assert problem.description.endswith(recorded[2].joined or "")
    with sessions.begin() as session:
        assert len(ProblemRepository(session).list()) == 1


def test_a_later_incident_joins_the_one_problem_once(sessions: Sessions) -> None:
    incidents(sessions, 3, NOW - DAY, service="mail", category="software/mail")
    assert record(sessions, now=NOW - DAY) == [("PRB-000001", True), ("PRB-000001", False)]
    later = incidents(sessions, 3, NOW, service="mail", category="software/mail")
    second = record_all(sessions)
    assert [(r.number, r.created, r.grew, r.joined) for r in second] == [
        ("PRB-000001", False, True, None),
        ("PRB-000001", False, True, None),
    ]
    problem = get(sessions, "PRB-000001")
    assert (problem.frequency, problem.incident_numbers[-3:]) == (6, later)
    assert problem.description.count("joined it") == 1


def test_a_joined_trend_that_grows_apart_leaves_the_problem(sessions: Sessions) -> None:
    mail = incidents(sessions, 3, NOW - DAY, service="mail", category="network")
    assert record(sessions, now=NOW - DAY) == [("PRB-000001", True), ("PRB-000001", False)]
    incidents(sessions, 2, NOW, service="vpn", category="network")
    incidents(sessions, 2, NOW, service="dns", category="network")
    # network has 7 incidents now, 3 of them mail's: it is no longer mail's problem
    assert record(sessions) == [("PRB-000001", False), ("PRB-000002", True)]
    assert get(sessions, "PRB-000001").incident_numbers == mail
    network = get(sessions, "PRB-000002")
    assert (network.trend_key, network.frequency) == ("category:network", 7)


def test_a_broad_trend_sharing_a_minority_of_its_incidents_stays_apart(
    sessions: Sessions,
) -> None:
    mail = incidents(sessions, 3, NOW, service="mail", category="network")
    incidents(sessions, 2, NOW, service="vpn", category="network")
    incidents(sessions, 2, NOW, service="dns", category="network")
    assert record(sessions) == [("PRB-000001", True), ("PRB-000002", True)]
    network = get(sessions, "PRB-000002")
    assert (network.trend_key, network.service, network.frequency) == ("category:network", None, 7)
    assert get(sessions, "PRB-000001").category is None
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        for number in mail:  # each of them in both problems: two views, neither the cause
            assert number in repository.incidents_of("PRB-000001")
            assert number in repository.incidents_of("PRB-000002")


def test_a_narrow_trend_inside_a_broad_problem_stays_apart(sessions: Sessions) -> None:
    incidents(sessions, 3, NOW - DAY, service="vpn", category="network")
    incidents(sessions, 3, NOW - DAY, service="dns", category="network")
    record(sessions, rule=RULE.model_copy(update={"dimensions": ["category"]}), now=NOW - DAY)
    incidents(sessions, 3, NOW, service="mail", category="network")
    both = RULE.model_copy(update={"dimensions": ["category", "service"]})
    recorded = record_all(sessions, rule=both)
    assert get(sessions, recorded[0].number).frequency == 9
    opened = {get(sessions, r.number).trend_key: r for r in recorded if r.created}
    # each service's 3 incidents are the network problem's, but a third of it: its own
    assert sorted(opened) == ["service:dns", "service:mail", "service:vpn"]
    assert not any(r.joined for r in recorded)


def test_a_closed_problem_lets_go_of_the_trends_that_joined_it(sessions: Sessions) -> None:
    incidents(sessions, 3, NOW - 2 * DAY, service="mail", category="software/mail")
    (first, _) = record_all(sessions, now=NOW - 2 * DAY)
    close(sessions, first.number, NOW - DAY)
    incident(sessions, NOW, service="mail", category="software/mail")
    again = record_all(sessions)
    assert again[0].created and again[0].number != first.number
    assert again[1].number == again[0].number and again[1].joined is not None


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
