"""The public JSON of the service catalogue and the checks: what `GET /api/v1/services`,
`GET /api/v1/checks` and `serviceops services|checks ... --json` return.

As with serviceops.domain.views.incidents, these documents are a contract kept apart from the domain
models: the catalogue may change its internals without breaking a dashboard. A check's
definition is shown with every URL's password hidden, since the read API is not the place a
database password should leave by. Pure pydantic, no I/O: callers pass the catalogue and the
latest results in.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from serviceops.domain.cmdb import (
    KIND_NAMES,
    Catalogue,
    Check,
    CheckResult,
    CheckStatus,
    ConfigurationItem,
    Endpoint,
    blast_radius,
    hide_password,
)
from serviceops.domain.incident import IncidentFormChoices

__all__ = [
    "CatalogueLoaded",
    "CheckDocument",
    "CheckList",
    "CheckResultView",
    "CheckView",
    "EndpointView",
    "ServiceDocument",
    "ServiceList",
    "ServiceView",
    "check_views",
]


class EndpointView(BaseModel):
    url: str = Field(description="http(s) URL or tcp://host:port, password hidden")
    contains: str | None
    expect_status: list[int]
    max_latency_ms: int

    @classmethod
    def of(cls, endpoint: Endpoint) -> "EndpointView":
        url = endpoint.url
        return cls(**endpoint.model_dump() | {"url": hide_password(url) if "@" in url else url})


class ServiceView(BaseModel):
    """A configuration item with what depends on it and what its outage would mean."""

    name: str
    type: str = Field(description="service, application, server, database, network ...")
    owner_group: str
    tier: int = Field(description="1 (business critical) .. 3")
    description: str
    endpoints: list[EndpointView]
    depends_on: list[str]
    dependents: list[str] = Field(description="Everything that fails with it, transitively")
    blast_radius: str = Field(description="Impact of its outage: high, medium or low")
    checks: list[str] = Field(description="Names of the checks that watch it")

    @classmethod
    def of(cls, catalogue: Catalogue, item: ConfigurationItem) -> "ServiceView":
        impact = blast_radius(catalogue, item.name)
        if impact is None:  # the item comes from the catalogue: cannot happen
            raise KeyError(item.name)
        return cls(
            name=item.name,
            type=item.type.value,
            owner_group=item.owner_group,
            tier=item.tier,
            description=item.description,
            endpoints=[EndpointView.of(endpoint) for endpoint in item.endpoints],
            depends_on=list(item.depends_on),
            dependents=catalogue.dependents(item.name),
            blast_radius=impact.value,
            checks=sorted(check.name for check in _checks_watching(catalogue, item.name)),
        )


class ServiceList(BaseModel):
    """`{"services": [...], "count": n, ...}`: every item, by name."""

    services: list[ServiceView]
    count: int
    source_file: str | None = Field(description="The catalogue file last loaded; null: none")
    loaded_at: datetime | None


class CheckResultView(BaseModel):
    """One run of a check."""

    status: CheckStatus
    summary: str
    target: str
    latency_ms: float | None
    details: dict[str, Any]
    checked_at: datetime

    @classmethod
    def of(cls, result: CheckResult) -> "CheckResultView":
        return cls(
            status=result.status,
            summary=result.summary,
            target=result.target,
            latency_ms=result.latency_ms,
            details=result.details,
            checked_at=result.checked_at,
        )


class CheckView(BaseModel):
    """A check, how often it runs and how it went last time (null: it has not run yet)."""

    name: str
    kind: str = Field(description=KIND_NAMES)
    service: str
    ci: str | None
    target: str = Field(description="What is checked; never contains a password")
    interval_s: int = Field(description="Seconds between two runs")
    definition: dict[str, Any] = Field(description="Every setting of the check")
    latest: CheckResultView | None

    @classmethod
    def of(cls, check: Check, interval_s: int, latest: CheckResult | None) -> "CheckView":
        definition = check.model_dump(mode="json")
        url = definition.get("url")
        if isinstance(url, str) and ("@" in url or "?" in url):  # where a secret can be
            definition["url"] = hide_password(url)
        return cls(
            name=check.name,
            kind=check.kind,
            service=check.service,
            ci=check.ci,
            target=check.target,
            interval_s=interval_s,
            definition=definition,
            latest=None if latest is None else CheckResultView.of(latest),
        )


class CheckList(BaseModel):
    """`{"checks": [...], "count": n}`: checks by name, each with its latest result."""

    checks: list[CheckView]
    count: int


class CheckDocument(BaseModel):
    """`{"check": {...}, "history": [...]}`: one check and its last results, newest first."""

    check: CheckView
    history: list[CheckResultView]


class ServiceDocument(BaseModel):
    """`{"service": {...}, "checks": [...]}`: one item and the checks that watch it."""

    service: ServiceView
    checks: list[CheckView]


class CatalogueLoaded(BaseModel):
    """What `serviceops services load --json` prints: the file, when, and what it changed."""

    source_file: str
    loaded_at: datetime
    items: int = Field(description="Items in the catalogue now")
    checks: int = Field(description="Checks in the catalogue now (declared and from endpoints)")
    added: list[str] = Field(description="Items new in this load")
    removed: list[str] = Field(description="Items the file no longer has")
    incident_form: IncidentFormChoices | None = Field(
        None,
        description="What log-incident's form offers now; null when Prefect could not be "
        "reached or log-incident is not deployed (housekeeping updates it within a minute)",
    )


def _checks_watching(catalogue: Catalogue, name: str) -> list[Check]:
    return [check for check in catalogue.all_checks() if name in (check.service, check.ci)]


def check_views(
    catalogue: Catalogue,
    latest: Iterable[CheckResult],
    *,
    status: CheckStatus | None = None,
    watching: str | None = None,
) -> list[CheckView]:
    """Every check of the catalogue by name, with its latest result; `status` keeps the checks
    whose latest result has it (a check that never ran has none), `watching` those whose
    service or CI is that item."""
    newest = {result.check: result for result in latest}
    checks = catalogue.all_checks() if watching is None else _checks_watching(catalogue, watching)
    views = [
        CheckView.of(check, catalogue.schedules[check.kind], newest.get(check.name))
        for check in sorted(checks, key=lambda check: check.name)
    ]
    if status is not None:
        views = [view for view in views if view.latest and view.latest.status == status]
    return views
