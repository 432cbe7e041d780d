"""Read API for service requests and the catalogue, behind the same bearer token as incidents.

`GET /api/v1/requests`, `GET /api/v1/requests/{number}`, `GET /api/v1/catalogue`.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from serviceops.application.requests import request_document, request_page
from serviceops.domain.request import RequestState, RequestType, catalogue
from serviceops.domain.views import (
    CatalogueDocument,
    RequestDocument,
    RequestList,
)
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import FREE_TEXT, Limit, Offset, RequestNumber
from serviceops.store.base import RecordNotFound

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
    return request_page(
        session, state=state, type=type, requester=requester, limit=limit, offset=offset
    )


@router.get("/requests/{number}", response_model=RequestDocument)
def get_request(session: SessionDep, number: RequestNumber) -> RequestDocument:
    """One request with its audit trail; 404 when no such request exists."""
    try:
        return request_document(session, number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no request {number}") from None


@router.get("/catalogue", response_model=CatalogueDocument)
def get_catalogue() -> CatalogueDocument:
    """What can be requested: type, title, approvals it may need, steps, target time."""
    return CatalogueDocument(items=catalogue())
