"""Read API for event management: `GET /api/v1/events[/{number}]`,
`GET /api/v1/alerts[/{number}]` and `GET /api/v1/silences[/{number}]`.

The documents are serviceops.domain.views.events, the same ones `serviceops events|alerts
--json` prints. Events are what monitoring sent; alerts are the correlated groups they became,
so an alert's document carries its latest events, its actions and its audit trail.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from serviceops.application.events import (
    alert_document,
    alert_page,
    event_document,
    event_page,
    silence_document,
    silence_page,
)
from serviceops.domain.event import NAME_PATTERN, AlertState, EventStatus, SilenceState
from serviceops.domain.views import (
    AlertDocument,
    AlertList,
    EventDocument,
    EventList,
    SilenceDocument,
    SilenceList,
)
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import (
    AlertFilter,
    AlertNumber,
    EventNumber,
    Limit,
    Offset,
    SilenceNumber,
)
from serviceops.store.base import RecordNotFound

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)])


@router.get("/events", response_model=EventList, tags=["events"])
def list_events(
    session: SessionDep,
    source: Annotated[
        str | None, Query(max_length=50, pattern=NAME_PATTERN, description="Exact source")
    ] = None,
    alert: AlertFilter = None,
    event_status: Annotated[
        EventStatus | None, Query(alias="status", description="firing or resolved")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EventList:
    """One page of events, newest first, filtered on any of source, alert, status."""
    return event_page(
        session, source=source, alert=alert, status=event_status, limit=limit, offset=offset
    )


@router.get("/events/{number}", response_model=EventDocument, tags=["events"])
def get_event(session: SessionDep, number: EventNumber) -> EventDocument:
    """One event, details included; 404 when no such event exists."""
    try:
        return event_document(session, number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no event {number}") from None


@router.get("/alerts", response_model=AlertList, tags=["alerts"])
def list_alerts(
    session: SessionDep,
    state: Annotated[AlertState | None, Query(description="open, resolved or closed")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AlertList:
    """One page of alerts, newest first, optionally in one state."""
    return alert_page(session, state=state, limit=limit, offset=offset)


@router.get("/alerts/{number}", response_model=AlertDocument, tags=["alerts"])
def get_alert(session: SessionDep, number: AlertNumber) -> AlertDocument:
    """One alert with its latest events, its actions and its audit trail; 404 when unknown."""
    try:
        return alert_document(session, number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no alert {number}") from None


@router.get("/silences", response_model=SilenceList, tags=["silences"])
def list_silences(
    session: SessionDep,
    state: Annotated[SilenceState | None, Query(description="active, expired or lifted")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> SilenceList:
    """One page of silences, newest first, optionally in one state."""
    return silence_page(session, state=state, limit=limit, offset=offset)


@router.get("/silences/{number}", response_model=SilenceDocument, tags=["silences"])
def get_silence(session: SessionDep, number: SilenceNumber) -> SilenceDocument:
    """One silence with the alerts it holds back now and its audit trail; 404 when unknown."""
    try:
        return silence_document(session, number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no silence {number}") from None
