"""Reading service requests: the documents the read API and `serviceops request` return."""

from sqlalchemy.orm import Session

from serviceops.domain.request import RequestState, RequestType
from serviceops.domain.views import AuditView, RequestDocument, RequestList, RequestView
from serviceops.store.audit import AuditRepository
from serviceops.store.request import RequestRepository


def request_document(session: Session, number: str) -> RequestDocument:
    """One request with its audit trail; RecordNotFound when there is no such request."""
    request = RequestRepository(session).get(number)
    audit = [AuditView.of(entry) for entry in AuditRepository(session).for_record(number)]
    return RequestDocument(request=RequestView.of(request), audit=audit)


def request_page(
    session: Session,
    *,
    state: RequestState | None = None,
    type: RequestType | None = None,
    requester: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> RequestList:
    """One page of service requests, newest first, filtered on state, type, requester."""
    requests = RequestRepository(session).list(
        state=state,
        type=None if type is None else type.value,
        requester=requester,
        limit=limit,
        offset=offset,
    )
    views = [RequestView.of(request) for request in requests]
    return RequestList(requests=views, count=len(views), limit=limit, offset=offset)
