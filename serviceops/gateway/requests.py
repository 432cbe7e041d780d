"""Read API for service requests and the catalogue, behind the same bearer token as incidents.

`GET /api/v1/requests`, `GET /api/v1/requests/{number}`, `GET /api/v1/catalogue`.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from serviceops.domain.request import RequestState, RequestType, catalogue
from serviceops.domain.views import (
    AuditView,
    CatalogueDocument,
    RequestDocument,
    RequestList,
    RequestView,
)
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import FREE_TEXT, Limit, Offset, RequestNumber
from serviceops.store.audit import AuditRepository
from serviceops.store.base import RecordNotFound
from serviceops.store.request import RequestRepository

router = APIRouter(prefix="/api/v1", tags=["requests"], dependencies=[Depends(require_token)])


@router.get("/requests", response_model=RequestList)
def list_requests(
    session: SessionDep,
    state: Annotated[RequestState | None, Query(description="Lifecycle state")] = None,
    type: Annotated[RequestType | None, Query(description="Catalogue item")] = None,
    requester: Annotated[
        str | None, Query(max_length=200, description="Exact requester"), FREE_TEXT
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
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


@router.get("/requests/{number}", response_model=RequestDocument)
def get_request(session: SessionDep, number: RequestNumber) -> RequestDocument:
    """One request with its audit trail; 404 when no such request exists."""
    try:
        request = RequestRepository(session).get(number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no request {number}") from None
    audit = [AuditView.of(entry) for entry in AuditRepository(session).for_record(number)]
    return RequestDocument(request=RequestView.of(request), audit=audit)


@router.get("/catalogue", response_model=CatalogueDocument)
def get_catalogue() -> CatalogueDocument:
    """What can be requested: type, title, approvals it may need, steps, target time."""
    return CatalogueDocument(items=catalogue())
