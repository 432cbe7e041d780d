"""Reading the catalogue and the checks: the documents the read API and `serviceops
services|checks` return, built once."""

from sqlalchemy.orm import Session

from serviceops.domain.cmdb import CheckStatus
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
from serviceops.store.cmdb import CatalogueRepository, CheckRunRepository


def service_list(session: Session) -> ServiceList:
    """Every configuration item, by name, with its dependents and blast radius."""
    repository = CatalogueRepository(session)
    catalogue, loaded = repository.catalogue(), repository.loaded()
    views = [ServiceView.of(catalogue, item) for item in catalogue.items]
    return ServiceList(
        services=views,
        count=len(views),
        source_file=None if loaded is None else loaded[0],
        loaded_at=None if loaded is None else loaded[1],
    )


def service_document(session: Session, name: str) -> ServiceDocument:
    """One item and the checks that watch it; KeyError when the catalogue has no such item."""
    catalogue = CatalogueRepository(session).catalogue()
    item = catalogue.item(name)
    latest = CheckRunRepository(session).latest()
    return ServiceDocument(
        service=ServiceView.of(catalogue, item),
        checks=check_views(catalogue, latest, watching=name),
    )


def check_list(session: Session, status: CheckStatus | None = None) -> CheckList:
    """Every check by name with its latest result, optionally only those with `status`."""
    catalogue = CatalogueRepository(session).catalogue()
    views = check_views(catalogue, CheckRunRepository(session).latest(), status=status)
    return CheckList(checks=views, count=len(views))


def check_document(session: Session, name: str, limit: int) -> CheckDocument | None:
    """One check and its last `limit` results, newest first; None when there is no such check."""
    catalogue = CatalogueRepository(session).catalogue()
    check = next((c for c in catalogue.all_checks() if c.name == name), None)
    if check is None:
        return None
    history = CheckRunRepository(session).history(name, limit)
    view = CheckView.of(check, catalogue.schedules[check.kind], history[0] if history else None)
    return CheckDocument(check=view, history=[CheckResultView.of(result) for result in history])
