"""The facts of a report period as the database answers them (SQLite and PostgreSQL), and the
KPIs computed from them.

Rows are seeded with Core inserts, so every timestamp is exactly the one a test needs: the
period is 2026-11-25 UTC, [11-25 00:00, 11-26 00:00).
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.oncall import Paged, PageState
from serviceops.domain.report import ReportKind, compute_report, period_through
from serviceops.store.audit import AuditRecord
from serviceops.store.event.tables import AlertRecord, EventRecord, SilenceRecord
from serviceops.store.incident.tables import IncidentRecord
from serviceops.store.oncall import PageRepository
from serviceops.store.problem.tables import KnownErrorRecord, ProblemRecord
from serviceops.store.report import KpiRepository
from serviceops.store.request.tables import ServiceRequestRecord

DAY = period_through(ReportKind.DAILY, date(2026, 11, 25))


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def incident(session: Session, number: int, **fields: Any) -> None:
    created = fields.pop("created_at")
    values: dict[str, Any] = {
        "number": f"INC-{number:06d}",
        "title": f"incident {number}",
        "service": "mail",
        "category": "software",
        "impact": "medium",
        "urgency": "medium",
        "priority": 3,
        "reporter": "carol",
        "source": "user",
        "state": "new",
        "support_group": "service-desk",
        "created_at": created,
        "updated_at": created,
    }
    session.execute(insert(IncidentRecord).values(values | fields))


def trail(session: Session, number: int, *rows: tuple[datetime, str, str]) -> None:
    session.execute(
        insert(AuditRecord),
        [
            {
                "record": f"INC-{number:06d}",
                "action": action,
                "actor": "alice",
                "at": when,
                "to_state": to_state,
                "reason": "",
            }
            for when, action, to_state in rows
        ],
    )


def seed_incidents(session: Session) -> None:
    # 1: logged, resolved and closed today; P1 major at first line; response met, resolution
    #    missed (11:00 after 10:00).
    incident(
        session,
        1,
        priority=1,
        major=True,
        state="closed",
        created_at=at(25, 9),
        updated_at=at(25, 12),
        resolved_at=at(25, 11),
        closed_at=at(25, 12),
        response_due_at=at(25, 9, 15),
        response_stopped_at=at(25, 9, 5),
        resolution_due_at=at(25, 10),
        resolution_stopped_at=at(25, 11),
    )
    # 2: logged today, handed to network by a functional escalation, category corrected.
    incident(
        session,
        2,
        state="assigned",
        support_group="network",
        category_corrected=True,
        escalation_count=1,
        created_at=at(25, 10),
        updated_at=at(25, 10, 1),
        response_due_at=at(25, 12),
    )
    trail(session, 2, (at(25, 10, 1), "escalate_functional", "assigned"))
    # 3: logged yesterday, in progress since: in the backlog, nothing happened today.
    incident(session, 3, state="in_progress", created_at=at(24, 8), updated_at=at(24, 9))
    # 4: logged yesterday, acknowledged today (response missed), resolved after the period:
    #    in progress at the end according to its trail; a hierarchic escalation is no
    #    functional one.
    incident(
        session,
        4,
        state="resolved",
        escalation_count=1,
        created_at=at(24, 15),
        updated_at=at(26, 3),
        resolved_at=at(26, 3),
        response_due_at=at(24, 15, 30),
        response_stopped_at=at(25, 8),
    )
    trail(
        session,
        4,
        (at(24, 15), "log", "new"),
        (at(24, 15, 5), "assign", "assigned"),
        (at(25, 8), "start_work", "in_progress"),
        (at(25, 9), "escalate_hierarchic", "in_progress"),
        (at(26, 3), "resolve", "resolved"),
    )
    # 5: resolved before the period: not in it at all.
    incident(
        session,
        5,
        state="resolved",
        created_at=at(20, 9),
        updated_at=at(21, 9),
        resolved_at=at(21, 9),
    )
    # 6: logged exactly at the end: the next period's.
    incident(session, 6, created_at=at(26, 0))
    # 7: logged late today, assigned after midnight: new at the end.
    incident(session, 7, state="assigned", created_at=at(25, 23, 30), updated_at=at(26, 0, 10))
    trail(session, 7, (at(25, 23, 30), "log", "new"), (at(26, 0, 10), "assign", "assigned"))
    # 8: logged exactly at the start, resolved and reopened today (no resolved_at any more).
    incident(
        session,
        8,
        state="in_progress",
        reopen_count=1,
        created_at=at(25, 0),
        updated_at=at(25, 10),
    )


def seed_the_rest(session: Session) -> None:
    def request(number: int, due_at: datetime, fulfilled_at: datetime | None, state: str) -> None:
        session.execute(
            insert(ServiceRequestRecord).values(
                number=f"REQ-{number:06d}",
                type="software_install",
                requester="dave",
                details={},
                state=state,
                source="portal",
                approvals_required=[],
                approvals=[],
                completed_steps=[],
                created_at=due_at - timedelta(days=3),
                updated_at=due_at - timedelta(days=3),
                due_at=due_at,
                fulfilled_at=fulfilled_at,
            )
        )

    request(1, at(25, 12), at(25, 11), "fulfilled")  # due today, on time
    request(2, at(25, 18), None, "fulfilling")  # due today, not fulfilled
    request(3, at(30, 12), at(25, 9), "closed")  # fulfilled today, due later
    request(4, at(22, 12), at(22, 11), "closed")  # neither

    def alert(number: int, incident_number: str | None, symptoms: int = 0) -> None:
        session.execute(
            insert(AlertRecord).values(
                symptoms=symptoms,
                number=f"ALR-{number:06d}",
                key=f"key-{number}",
                title="disk full",
                state="open",
                significance="exception",
                response="incident" if incident_number else "notify",
                firing=[],
                fingerprints=[],
                incident_number=incident_number,
                first_event_at=at(25, 1),
                last_event_at=at(25, 2),
            )
        )

    alert(1, "INC-000002", symptoms=7)  # a switch: seven dependents held as its symptoms
    alert(2, None)
    alert(3, "INC-000004")

    def silence(number: int, start: datetime, end: datetime, state: str) -> None:
        lifted = state == "lifted"
        session.execute(
            insert(SilenceRecord).values(
                number=f"SIL-{number:06d}",
                ci="db-01",
                reason="kernel update",
                owner="alex",
                state=state,
                ends_at=end + timedelta(hours=5) if lifted else end,
                extensions=0,
                created_at=start,
                updated_at=end if lifted else start,
            )
        )

    silence(1, at(24, 22), at(25, 2), "lifted")  # lifted two hours into the day
    silence(2, at(25, 20), at(26, 6), "active")  # the day's last four hours
    silence(3, at(24, 8), at(24, 12), "expired")  # over before the day
    for received, alert_number in [
        (at(25, 1), "ALR-000001"),
        (at(25, 2), "ALR-000001"),
        (at(25, 3), "ALR-000002"),
        (at(25, 4), None),
        (at(25, 5), "ALR-000003"),
        (at(24, 23), "ALR-000001"),  # yesterday's
    ]:
        session.execute(
            insert(EventRecord).values(
                received_at=received,
                source="prometheus",
                check="disk",
                severity="critical",
                summary="disk full",
                details={},
                fingerprint="fp",
                status="firing",
                alert_number=alert_number,
            )
        )

    for number, created, closed in [
        (1, at(25, 10), None),  # opened today
        (2, at(20, 10), at(25, 15)),  # closed today
        (3, at(22, 10), None),  # still open
        (4, at(26, 1), None),  # tomorrow's
    ]:
        session.execute(
            insert(ProblemRecord).values(
                number=f"PRB-{number:06d}",
                title="recurring disk full",
                state="closed" if closed else "logged",
                source="manual",
                impact="medium",
                urgency="medium",
                reporter="erin",
                created_at=created,
                updated_at=closed or created,
                closed_at=closed,
            )
        )
    for number, created in [(1, at(25, 10)), (2, at(24, 10))]:
        session.execute(
            insert(KnownErrorRecord).values(
                number=f"KE-{number:06d}", title="disk", workaround="rm", created_at=created
            )
        )


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        seed_incidents(session)
        seed_the_rest(session)
    return sessions


def test_incident_facts_of_the_period(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        facts = KpiRepository(session).incidents(DAY)
    by_number = {fact.number: fact for fact in facts}
    # logged today (1, 2, 7, 8), resolved today (1), or acknowledged today (4)
    assert list(by_number) == ["INC-000001", "INC-000002", "INC-000004", "INC-000007", "INC-000008"]
    assert by_number["INC-000002"].functional_escalations == 1
    assert by_number["INC-000004"].functional_escalations == 0  # hierarchic only
    first = by_number["INC-000001"]
    assert first.created_at == at(25, 9) and first.created_at.tzinfo is not None
    assert first.resolution_stopped_at == at(25, 11) and first.resolution_due_at == at(25, 10)
    assert first.major and first.priority == 1
    assert by_number["INC-000008"].reopen_count == 1


def test_stages_at_the_end_of_the_period(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        stages = KpiRepository(session).stages(DAY)
    # 1 closed; 2 assigned; 3, 4 (by its trail) and 8 in progress; 7 new (by its trail);
    # 5 resolved before the period and 6 logged after it are not counted.
    assert stages == {"closed": 1, "assigned": 1, "in_progress": 3, "new": 1}


def test_requests_events_problems_and_known_errors(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        repository = KpiRepository(session)
        requests = repository.requests(DAY)
        events = repository.events(DAY)
        problems = repository.problems(DAY)
        known_errors = repository.known_errors_added(DAY)
    assert [r.number for r in requests] == ["REQ-000001", "REQ-000002", "REQ-000003"]
    assert requests[0].due_at == at(25, 12) and requests[0].fulfilled_at == at(25, 11)
    # 5 events today; 4 in alerts; 3 in alerts that raised INC-2 or INC-4
    assert events.model_dump() == {
        "received": 5,
        "correlated": 4,
        "became_incident": 3,
        "incidents": 2,
        "symptoms": 7,
        "silence_windows": [(at(24, 22), at(25, 2)), (at(25, 20), at(26, 6))],
    }
    assert problems.model_dump() == {"opened": 1, "closed": 1, "open_at_end": 2}  # open: 1, 3
    assert known_errors == 1


def test_kpis_computed_from_the_database(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        report = compute_report(KpiRepository(session).facts(DAY), "service-desk")
    incidents = report.incidents
    assert (incidents.logged, incidents.resolved, incidents.backlog) == (4, 1, 5)
    # response stopped today: 1 (met), 4 (08:00 after 15:30 yesterday: missed) -> 1 of 2
    assert incidents.within_response.model_dump() == {"count": 1, "of": 2, "percent": 50.0}
    assert incidents.within_resolution.model_dump() == {"count": 0, "of": 1, "percent": 0.0}
    assert incidents.mean_time_to_resolve == timedelta(hours=2)  # 1: 09:00 -> 11:00
    assert (incidents.first_line.count, incidents.first_line.of) == (1, 1)
    # of the 4 logged: 1 major, 2 reassigned and recategorized -> 1 of 4 each
    assert incidents.major.percent == 25.0
    assert incidents.incorrectly_assigned.percent == 25.0
    assert incidents.incorrectly_categorized.percent == 25.0
    assert incidents.by_hour[0] == 1 and incidents.by_hour[23] == 1  # 8 at 00:00, 7 at 23:30
    # requests due today: 1 on time, 2 not fulfilled -> 1 of 2; fulfilled today: 1 and 3
    assert report.requests.model_dump() == {
        "due": 2,
        "on_time": {"count": 1, "of": 2, "percent": 50.0},
        "unfulfilled": 1,
        "fulfilled": 2,
    }
    assert report.events.became_incident.percent == 60.0  # 3 of 5
    # SIL-1's last two hours of the day's first and SIL-2's first four of its last: 6 hours
    assert (report.events.symptoms, report.events.silences) == (7, 2)
    assert report.events.silenced_for == timedelta(hours=6)
    assert report.known_errors_added == 1


def test_an_empty_database_has_facts_of_zero(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        facts = KpiRepository(session).facts(DAY)
    assert facts.incidents == [] and facts.stages == {} and facts.requests == []
    assert facts.events.received == 0 and facts.problems.open_at_end == 0
    report = compute_report(facts, "service-desk")
    assert report.incidents.backlog == 0 and report.incidents.within_response.percent is None


def test_pages_of_the_period_with_their_incident_s_priority(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        incident(session, 1, created_at=at(25, 2), priority=2)
        pages = PageRepository(session)
        night = pages.open("INC-000001", "operations", at(25, 2, 1))
        paged = [Paged(step=0, persons=["alex"], at=at(25, 2, 1))]
        answered = night.model_copy(update={"paged": paged, "state": PageState.ACKNOWLEDGED,
                                            "acknowledged_by": "alex",
                                            "acknowledged_at": at(25, 2, 7)})  # fmt: skip
        pages.save(answered)
        pages.open("INC-000001", "operations", at(24, 23))  # the day before: not in it
    with sessions.begin() as session:
        (facts,) = KpiRepository(session).pages(DAY)
    assert (facts.number, facts.group, facts.priority) == (night.number, "operations", 2)
    assert (facts.opened_at, facts.acknowledged_at) == (at(25, 2, 1), at(25, 2, 7))
    assert [(p.persons, p.at) for p in facts.paged] == [(["alex"], at(25, 2, 1))]
