"""Reading incidents: the documents the read API and `serviceops incident` return, built once."""

from datetime import datetime

from sqlalchemy.orm import Session

from serviceops.domain.incident import IncidentState
from serviceops.domain.views import AuditView, IncidentDocument, IncidentList, IncidentView
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository


def incident_document(session: Session, number: str, now: datetime) -> IncidentDocument:
    """One incident with its audit trail; RecordNotFound when there is no such incident."""
    incident = IncidentRepository(session).get(number)
    audit = [AuditView.of(entry) for entry in AuditRepository(session).for_record(number)]
    return IncidentDocument(incident=IncidentView.of(incident, now), audit=audit)


def incident_page(
    session: Session,
    now: datetime,
    *,
    state: IncidentState | None = None,
    priority: int | None = None,
    service: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> IncidentList:
    """One page of incidents, newest first, filtered on any of state, priority, service."""
    incidents = IncidentRepository(session).list(
        state=state, priority=priority, service=service, limit=limit, offset=offset
    )
    views = [IncidentView.of(incident, now) for incident in incidents]
    return IncidentList(incidents=views, count=len(views), limit=limit, offset=offset)
