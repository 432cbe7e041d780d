"""Read API for the service catalogue and the checks: `GET /api/v1/services[/{name}]` and
`GET /api/v1/checks[/{name}]`.

The documents are serviceops.domain.views.cmdb, the same ones `serviceops services|checks
--json` prints. Everything is read from the catalogue as last loaded into the database.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from serviceops.domain.cmdb import NAME_PATTERN, CheckStatus
from serviceops.domain.views import (
    CheckDocument,
    CheckList,
    CheckResultView,
    CheckView,
    ServiceDocument,
    ServiceList,
    ServiceView,
    check_views,
)
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import Limit
from serviceops.store.cmdb import CatalogueRepository, CheckRunRepository

router = APIRouter(prefix="/api/v1", tags=["catalogue"], dependencies=[Depends(require_token)])

NameArg = Annotated[str, Path(pattern=NAME_PATTERN, max_length=100, description="e.g. billing-api")]


@router.get("/services", response_model=ServiceList)
def list_services(session: SessionDep) -> ServiceList:
    """Every configuration item, by name, with its dependents and blast radius."""
    repository = CatalogueRepository(session)
    catalogue = repository.catalogue()
    loaded = repository.loaded()
    views = [ServiceView.of(catalogue, item) for item in catalogue.items]
    return ServiceList(
        services=views,
        count=len(views),
        source_file=None if loaded is None else loaded[0],
        loaded_at=None if loaded is None else loaded[1],
    )


@router.get("/services/{name}", response_model=ServiceDocument)
def get_service(session: SessionDep, name: NameArg) -> ServiceDocument:
    """One item and the checks that watch it; 404 when the catalogue has no such item."""
    catalogue = CatalogueRepository(session).catalogue()
    try:
        item = catalogue.item(name)
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no service {name}") from None
    latest = CheckRunRepository(session).latest()
    return ServiceDocument(
        service=ServiceView.of(catalogue, item),
        checks=check_views(catalogue, latest, watching=name),
    )


@router.get("/checks", response_model=CheckList)
def list_checks(
    session: SessionDep,
    status_: Annotated[
        CheckStatus | None,
        Query(alias="status", description="Only checks whose latest result has this status"),
    ] = None,
) -> CheckList:
    """Every check by name, with its latest result."""
    catalogue = CatalogueRepository(session).catalogue()
    views = check_views(catalogue, CheckRunRepository(session).latest(), status=status_)
    return CheckList(checks=views, count=len(views))


@router.get("/checks/{name}", response_model=CheckDocument)
def get_check(
    session: SessionDep,
    name: NameArg,
    limit: Limit = 50,
) -> CheckDocument:
    """One check and its last `limit` results, newest first; 404 when there is no such check."""
    catalogue = CatalogueRepository(session).catalogue()
    check = next((c for c in catalogue.all_checks() if c.name == name), None)
    if check is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no check {name}")
    history = CheckRunRepository(session).history(name, limit)
    view = CheckView.of(check, catalogue.schedules[check.kind], history[0] if history else None)
    return CheckDocument(check=view, history=[CheckResultView.of(result) for result in history])
