"""Three incidents in three states, with SLA clocks and history, for read-side tests.

Seeded through the repositories (not ORM rows), so the tests read back exactly what a flow
would have written.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.incident import (
    BusinessCalendar,
    Incident,
    IncidentDraft,
    IncidentState,
    KnownErrorMatch,
    ResolutionCode,
    SlaKind,
    start_clock,
    stop_clock,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository

ALWAYS = BusinessCalendar(always_open=True)
FLOW_RUN_ID = "8b0c5f0e-0000-4000-8000-000000000001"


def _draft(title: str, service: str, category: str, impact: str, urgency: str) -> IncidentDraft:
    return IncidentDraft(
        title=title,
        service=service,
        category=category,
        impact=Impact(impact),
        urgency=Urgency(urgency),
        reporter="bob",
    )


def seed_incidents(sessions: sessionmaker[Session]) -> list[Incident]:
    """INC-1 vpn P1 in_progress, INC-2 email P3 assigned, INC-3 vpn P5 resolved (oldest first)."""
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(hours=3)
    with sessions.begin() as session:
        repo, audit = IncidentRepository(session), AuditRepository(session)

        first = repo.add(_draft("VPN drops every hour", "vpn", "network/vpn", "high", "high"), t0)
        response = start_clock(SlaKind.RESPONSE, ALWAYS, t0, timedelta(minutes=15))
        first = repo.save(
            first.model_copy(
                update={
                    "priority": Priority.CRITICAL,
                    "state": IncidentState.IN_PROGRESS,
                    "support_group": "network",
                    "assignee": "alice",
                    "acknowledged_at": t0 + timedelta(minutes=5),
                    "response_sla": stop_clock(response, t0 + timedelta(minutes=5)),
                    "resolution_sla": start_clock(
                        SlaKind.RESOLUTION, ALWAYS, t0, timedelta(hours=1)
                    ),
                    "updated_at": t0 + timedelta(minutes=10),
                }
            )
        )
        for minutes, action, before, after in [
            (0, "log", None, "new"),
            (1, "assign", "new", "assigned"),
            (5, "acknowledge", "assigned", "assigned"),
            (10, "start_work", "assigned", "in_progress"),
        ]:
            audit.add(
                AuditEntry(
                    record=first.number,
                    action=action,
                    actor="alice" if minutes else "bob",
                    at=t0 + timedelta(minutes=minutes),
                    from_state=before,
                    to_state=after,
                    reason="looking at the tunnel" if action == "start_work" else "",
                    flow_run_id=FLOW_RUN_ID if action == "start_work" else None,
                )
            )

        t1 = t0 + timedelta(hours=1)
        second = repo.add(_draft("Mail is slow", "email", "software/mail", "medium", "medium"), t1)
        second = repo.save(
            second.model_copy(
                update={
                    "priority": Priority.MEDIUM,
                    "state": IncidentState.ASSIGNED,
                    "support_group": "messaging",
                    "response_sla": start_clock(SlaKind.RESPONSE, ALWAYS, t1, timedelta(hours=2)),
                    "resolution_sla": start_clock(
                        SlaKind.RESOLUTION, ALWAYS, t1, timedelta(hours=24)
                    ),
                }
            )
        )

        t2 = t0 + timedelta(hours=2)
        third = repo.add(_draft("VPN client asks twice", "vpn", "network/vpn", "low", "low"), t2)
        third = repo.save(
            third.model_copy(
                update={
                    "priority": Priority.PLANNING,
                    "state": IncidentState.RESOLVED,
                    "support_group": "network",
                    "known_error": KnownErrorMatch(
                        number="KE-000001", title="Double prompt", workaround="Tick remember me"
                    ),
                    "resolution_code": ResolutionCode.WORKAROUND,
                    "resolution_notes": "Told the user about remember me",
                    "resolved_at": t2 + timedelta(minutes=30),
                    "updated_at": t2 + timedelta(minutes=30),
                }
            )
        )
    return [first, second, third]
