"""Read API for incidents: `GET /api/v1/incidents` and `GET /api/v1/incidents/{number}`."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from serviceops.application.incidents import incident_document, incident_page
from serviceops.domain.incident import IncidentState
from serviceops.domain.views import IncidentDocument, IncidentList
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import FREE_TEXT, IncidentNumber, Limit, Offset
from serviceops.store.base import RecordNotFound

router = APIRouter(
    prefix="/api/v1/incidents", tags=["incidents"], dependencies=[Depends(require_token)]
)


@router.get("", response_model=IncidentList)
def list_incidents(
    session: SessionDep,
    state: Annotated[IncidentState | None, Query(description="Lifecycle state")] = None,
    priority: Annotated[int | None, Query(ge=1, le=5, description="1 (critical) .. 5")] = None,
    service: Annotated[
        str | None, Query(max_length=100, description="Exact service"), FREE_TEXT
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> IncidentList:
    """One page of incidents, newest first, filtered on any of state, priority, service."""
    return incident_page(
        session,
        datetime.now(UTC),
        state=state,
        priority=priority,
        service=service,
        limit=limit,
        offset=offset,
    )


@router.get("/{number}", response_model=IncidentDocument)
def get_incident(session: SessionDep, number: IncidentNumber) -> IncidentDocument:
    """One incident with its audit trail; 404 when no such incident exists."""
    try:
        return incident_document(session, number, datetime.now(UTC))
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no incident {number}") from None
