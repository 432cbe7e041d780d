"""Read API for the service catalogue and the checks: `GET /api/v1/services[/{name}]` and
`GET /api/v1/checks[/{name}]`.

The documents are serviceops.domain.views.cmdb, the same ones `serviceops services|checks
--json` prints. Everything is read from the catalogue as last loaded into the database.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from serviceops.application.catalogue import (
    check_document,
    check_list,
    service_document,
    service_list,
)
from serviceops.domain.cmdb import NAME_PATTERN, CheckStatus
from serviceops.domain.views import (
    CheckDocument,
    CheckList,
    ServiceDocument,
    ServiceList,
)
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import Limit

router = APIRouter(prefix="/api/v1", tags=["catalogue"], dependencies=[Depends(require_token)])

NameArg = Annotated[str, Path(pattern=NAME_PATTERN, max_length=100, description="e.g. billing-api")]


@router.get("/services", response_model=ServiceList)
def list_services(session: SessionDep) -> ServiceList:
    """Every configuration item, by name, with its dependents and blast radius."""
    return service_list(session)


@router.get("/services/{name}", response_model=ServiceDocument)
def get_service(session: SessionDep, name: NameArg) -> ServiceDocument:
    """One item and the checks that watch it; 404 when the catalogue has no such item."""
    try:
        return service_document(session, name)
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no service {name}") from None


@router.get("/checks", response_model=CheckList)
def list_checks(
    session: SessionDep,
    status_: Annotated[
        CheckStatus | None,
        Query(alias="status", description="Only checks whose latest result has this status"),
    ] = None,
) -> CheckList:
    """Every check by name, with its latest result."""
    return check_list(session, status_)


@router.get("/checks/{name}", response_model=CheckDocument)
def get_check(
    session: SessionDep,
    name: NameArg,
    limit: Limit = 50,
) -> CheckDocument:
    """One check and its last `limit` results, newest first; 404 when there is no such check."""
    document = check_document(session, name, limit)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no check {name}")
    return document
