"""Reading events, alerts and silences: the documents the read API and `serviceops
events|alerts|silence` return, built once."""

from sqlalchemy.orm import Session

from serviceops.domain.event import AlertState, EventStatus, SilenceState
from serviceops.domain.views import (
    ALERT_EVENTS_SHOWN,
    AlertDocument,
    AlertList,
    AlertView,
    AuditView,
    EventDocument,
    EventList,
    EventView,
    SilenceDocument,
    SilenceList,
    SilenceView,
)
from serviceops.store.audit import AuditRepository
from serviceops.store.event import (
    AlertActionRepository,
    AlertRepository,
    EventRepository,
    SilenceRepository,
)


def event_document(session: Session, number: str) -> EventDocument:
    """One event, details included; RecordNotFound when there is no such event."""
    return EventDocument(event=EventView.of(EventRepository(session).get(number)))


def event_page(
    session: Session,
    *,
    source: str | None = None,
    alert: str | None = None,
    status: EventStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> EventList:
    """One page of events, newest first, filtered on any of source, alert, status."""
    events = EventRepository(session).list(
        source=source, alert=alert, status=status, limit=limit, offset=offset
    )
    views = [EventView.of(event) for event in events]
    return EventList(events=views, count=len(views), limit=limit, offset=offset)


def alert_document(session: Session, number: str) -> AlertDocument:
    """The alert with its latest ALERT_EVENTS_SHOWN events, its actions and its audit trail;
    RecordNotFound when there is no such alert."""
    return AlertDocument.of(
        AlertRepository(session).get(number),
        EventRepository(session).list(alert=number, limit=ALERT_EVENTS_SHOWN),
        AlertActionRepository(session).for_alert(number),
        AuditRepository(session).for_record(number),
    )


def alert_page(
    session: Session, *, state: AlertState | None = None, limit: int = 100, offset: int = 0
) -> AlertList:
    """One page of alerts, newest first, optionally in one state."""
    alerts = AlertRepository(session).list(state=state, limit=limit, offset=offset)
    views = [AlertView.of(alert) for alert in alerts]
    return AlertList(alerts=views, count=len(views), limit=limit, offset=offset)


def silence_document(session: Session, number: str) -> SilenceDocument:
    """The silence, the alerts it holds back now and its audit trail; RecordNotFound when
    there is no such silence."""
    silence = SilenceRepository(session).get(number)
    return SilenceDocument(
        silence=SilenceView.of(silence),
        held=[AlertView.of(alert) for alert in AlertRepository(session).held_by([number])],
        audit=[AuditView.of(entry) for entry in AuditRepository(session).for_record(number)],
    )


def silence_page(
    session: Session, *, state: SilenceState | None = None, limit: int = 100, offset: int = 0
) -> SilenceList:
    """One page of silences, newest first, optionally in one state."""
    silences = SilenceRepository(session).list(state=state, limit=limit, offset=offset)
    views = [SilenceView.of(silence) for silence in silences]
    return SilenceList(silences=views, count=len(views), limit=limit, offset=offset)
