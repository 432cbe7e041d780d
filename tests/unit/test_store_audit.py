"""AuditRepository on SQLite and PostgreSQL: the trail of a record in order, and what a flow
run touched (the run page links to those records)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.machine import AuditEntry
from serviceops.store.audit import AuditRepository

Sessions = sessionmaker[Session]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def entry(record: str, to_state: str, *, minutes: int = 0, **changes: object) -> AuditEntry:
    values: dict[str, object] = {
        "record": record,
        "action": "assign",
        "actor": "alice",
        "at": T0 + timedelta(minutes=minutes),
        "from_state": "new",
        "to_state": to_state,
    }
    values.update(changes)
    return AuditEntry.model_validate(values)


def add_all(sessions: Sessions, *entries: AuditEntry) -> None:
    with sessions.begin() as session:
        repository = AuditRepository(session)
        for item in entries:
            repository.add(item)


def test_for_record_returns_its_entries_oldest_first_and_unchanged(sessions: Sessions) -> None:
    logged = entry("INC-000001", "new", action="log", from_state=None, reason="", flow_run_id=None)
    assigned = entry(
        "INC-000001",
        "assigned",
        minutes=1,
        reason="routed by category network/vpn",
        flow_run_id="0b5a2b0e-5c1c-4b0e-9a57-3d1f0b7a9c11",
    )
    other = entry("INC-000002", "assigned", minutes=1)
    # Same instant as `assigned`: the order they were written in decides.
    started = entry("INC-000001", "in_progress", minutes=1, action="start_work")
    add_all(sessions, logged, assigned)
    add_all(sessions, other, started)

    with sessions.begin() as session:
        trail = AuditRepository(session).for_record("INC-000001")

    assert trail == [logged, assigned, started]
    assert all(item.at.tzinfo == UTC for item in trail)


def test_for_record_of_an_unknown_record_is_empty(sessions: Sessions) -> None:
    with sessions.begin() as session:
        assert AuditRepository(session).for_record("INC-000099") == []


def test_records_of_flow_run_in_order_of_first_appearance(sessions: Sessions) -> None:
    run, other_run = "run-1", "run-2"
    add_all(
        sessions,
        entry("INC-000002", "assigned", flow_run_id=run),
        entry("INC-000009", "assigned", flow_run_id=other_run),
        entry("INC-000001", "assigned", flow_run_id=run),
        entry("INC-000002", "in_progress", flow_run_id=run),
        entry("KE-000001", "active", flow_run_id=run),
        entry("INC-000003", "assigned", flow_run_id=None),
    )

    with sessions.begin() as session:
        repository = AuditRepository(session)
        assert repository.records_of_flow_run(run) == ["INC-000002", "INC-000001", "KE-000001"]
        assert repository.records_of_flow_run(other_run) == ["INC-000009"]
        assert repository.records_of_flow_run("run-unknown") == []
