"""Incidents shared by the incident store tests: a draft, adding, reading and saving an
incident, each in a transaction of its own, and SLA clocks built from a few instants."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.incident import Incident, IncidentDraft, SlaClock, SlaKind, Source
from serviceops.domain.priority import Impact, Urgency
from serviceops.store.incident import IncidentRepository

Sessions = sessionmaker[Session]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def draft(**changes: object) -> IncidentDraft:
    values: dict[str, object] = {
        "title": "VPN drops every few minutes",
        "description": "Since this morning, all of the Lyon office.",
        "service": "vpn",
        "category": "network/vpn",
        "impact": Impact.MEDIUM,
        "urgency": Urgency.HIGH,
        "reporter": "alice@example.com",
        "source": Source.USER,
    }
    values.update(changes)
    return IncidentDraft.model_validate(values)


def add(sessions: Sessions, at: datetime = T0, **changes: object) -> Incident:
    with sessions.begin() as session:
        return IncidentRepository(session).add(draft(**changes), at)


def get(sessions: Sessions, number: str) -> Incident:
    with sessions.begin() as session:
        return IncidentRepository(session).get(number)


def save(sessions: Sessions, incident: Incident) -> Incident:
    with sessions.begin() as session:
        return IncidentRepository(session).save(incident)


def clock(
    kind: SlaKind,
    *,
    warn_at: datetime | None,
    due_at: datetime | None,
    started_at: datetime = T0,
    target: timedelta = timedelta(hours=4),
    remaining: timedelta | None = None,
    **changes: datetime | None,
) -> SlaClock:
    return SlaClock(
        kind=kind,
        target=target,
        started_at=started_at,
        due_at=due_at,
        warn_at=warn_at,
        remaining=target if remaining is None else remaining,
        **changes,
    )
