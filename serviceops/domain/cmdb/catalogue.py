"""A light CMDB: the services and configuration items an operator declares, what each depends
on, and the checks that watch them.

It is light on purpose. ITIL wants incidents and events to name the configuration item that
failed and wants the impact of a failure judged by what depends on it; a full CMDB (discovery,
relationship types, change history) is a product of its own. A file in version control with
names, owners, tiers, endpoints and `depends_on` gives both, and the endpoints double as the
monitoring targets, so the catalogue and what is watched cannot drift apart.
"""

from collections import Counter, deque
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from serviceops.domain.cmdb.checks import (
    DEFAULT_SCHEDULES,
    MODEL_OF_KIND,
    Check,
    CheckKind,
    HttpCheck,
    NetworkPolicy,
    TcpCheck,
    TlsCheck,
)
from serviceops.domain.cmdb.freezes import FreezePeriod
from serviceops.domain.oncall import Schedule
from serviceops.domain.priority import Impact

__all__ = [
    "NAME_PATTERN",
    "WIDE_OUTAGE",
    "Catalogue",
    "ConfigurationItem",
    "Endpoint",
    "ItemType",
    "blast_radius",
]

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"

ItemName = Annotated[str, Field(pattern=NAME_PATTERN, min_length=1, max_length=100)]

# An outage that reaches this many items is high impact whatever their tiers.
WIDE_OUTAGE = 5


class ItemType(StrEnum):
    SERVICE = "service"
    APPLICATION = "application"
    SERVER = "server"
    DATABASE = "database"
    NETWORK = "network"
    STORAGE = "storage"
    OTHER = "other"


class Endpoint(BaseModel):
    """Where an item answers: an http(s) URL (checked for status, text, latency, and for https
    its certificate) or tcp://host:port (checked for a connection)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(max_length=2000, description="http://, https:// or tcp://host:port")
    contains: str | None = Field(
        None, min_length=1, max_length=1000, description="Text an http(s) answer must contain."
    )
    expect_status: list[int] = Field(
        default_factory=lambda: [200], min_length=1, description="Acceptable HTTP statuses."
    )
    max_latency_ms: PositiveInt = Field(2000, description="Slower than this is a warning.")

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str) -> str:
        if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
            raise ValueError("the URL must not contain whitespace or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if parts.scheme not in ("http", "https", "tcp"):
            raise ValueError("the URL must start with http://, https:// or tcp://")
        if not parts.hostname:
            raise ValueError("the URL has no host")
        if parts.scheme == "tcp" and (port is None or parts.path not in ("", "/")):
            raise ValueError("a tcp endpoint is tcp://host:port, with a port and no path")
        return url

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, statuses: list[int]) -> list[int]:
        wrong = [status for status in statuses if not 100 <= status <= 599]
        if wrong:
            raise ValueError(f"not HTTP statuses: {wrong}")
        return statuses

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        """The host name or address, lower-case, without brackets for IPv6."""
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def port(self) -> int:
        """The port given, else the scheme's (80, 443)."""
        given = urlsplit(self.url).port
        if given is not None:
            return given
        return 443 if self.scheme == "https" else 80


class ConfigurationItem(BaseModel):
    """A service or a component of one. `depends_on` names the items it needs to work: when one
    of those fails, this item fails with it (and counts in that failure's impact)."""

    model_config = ConfigDict(extra="forbid")

    name: ItemName
    type: ItemType = ItemType.SERVICE
    owner_group: str = Field(min_length=1, max_length=100, description="Who fixes it.")
    tier: int = Field(ge=1, le=3, description="1 = business critical .. 3 = can wait.")
    description: str = ""
    endpoints: list[Endpoint] = Field(default_factory=list)
    depends_on: list[ItemName] = Field(default_factory=list)

    @field_validator("depends_on")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(names))


class Catalogue(BaseModel):
    """Every configuration item, the checks declared beside the endpoints, the network policy
    the checks obey and how often each kind of check runs."""

    model_config = ConfigDict(extra="forbid")

    items: list[ConfigurationItem] = Field(default_factory=list)
    checks: list[Check] = Field(
        default_factory=list,
        description="Checks declared explicitly (backup, disk, database, extra tcp ...).",
    )
    network: NetworkPolicy = Field(default_factory=NetworkPolicy)
    schedules: dict[CheckKind, PositiveInt] = Field(
        default_factory=lambda: dict(DEFAULT_SCHEDULES),
        description="Seconds between two runs, per kind of check; kinds not given keep theirs.",
    )
    oncall: list[Schedule] = Field(
        default_factory=list,
        description="Each support group's on-call schedule: layers of rotations, its manager.",
    )
    freezes: list[FreezePeriod] = Field(
        default_factory=list,
        description="Times no normal change may be scheduled in, on the CIs named or on all.",
    )

    @field_validator("checks", mode="before")
    @classmethod
    def _no_unknown_fields(cls, checks: Any) -> Any:
        """A misspelt option (`max_age_hour`) would otherwise be dropped without a word and
        the check would run with the default: refuse fields the check's kind does not have."""
        if not isinstance(checks, list):
            return checks
        for index, check in enumerate(checks):
            if not isinstance(check, dict) or check.get("kind") not in MODEL_OF_KIND:
                continue
            unknown = sorted(set(check) - set(MODEL_OF_KIND[check["kind"]].model_fields))
            if unknown:
                raise ValueError(
                    f"[{index}] ({check.get('name', '?')}) has no field {', '.join(unknown)}"
                )
        return checks

    @field_validator("schedules")
    @classmethod
    def _complete_schedules(cls, given: dict[CheckKind, int]) -> dict[CheckKind, int]:
        return DEFAULT_SCHEDULES | given

    @model_validator(mode="after")
    def _consistent(self) -> "Catalogue":
        names = [item.name for item in self.items]
        duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
        if duplicates:
            raise ValueError(f"items: duplicate names {', '.join(duplicates)}")
        known = set(names)
        for item in self.items:
            unknown = [name for name in item.depends_on if name not in known]
            if unknown:
                raise ValueError(
                    f"items: {item.name}.depends_on names unknown items {', '.join(unknown)}"
                )
        for check in self.checks:
            for field, name in (("service", check.service), ("ci", check.ci)):
                if name is not None and name not in known:
                    raise ValueError(f"checks: {check.name}.{field} names an unknown item {name!r}")
        for item in self.items:
            try:
                list(_endpoint_checks(item))
            except ValidationError as exc:  # e.g. a 100-character name plus "-http"
                problems = "; ".join(
                    f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                    for error in exc.errors()
                )
                raise ValueError(
                    f"items: {item.name}.endpoints give a bad check: {problems}"
                ) from None
        for freeze in self.freezes:
            unknown = [name for name in freeze.cis if name not in known]
            if unknown:
                raise ValueError(f"freezes: {freeze.name} names unknown items {', '.join(unknown)}")
        groups = [schedule.group for schedule in self.oncall]
        twice = sorted(group for group, count in Counter(groups).items() if count > 1)
        if twice:
            raise ValueError(f"oncall: more than one schedule for {', '.join(twice)}")
        check_names = [check.name for check in self.all_checks()]
        duplicates = sorted(name for name, count in Counter(check_names).items() if count > 1)
        if duplicates:
            raise ValueError(
                f"checks: duplicate names {', '.join(duplicates)} (endpoint checks are named "
                "<item>-http, <item>-tls, <item>-tcp)"
            )
        return self

    def schedule(self, group: str | None) -> Schedule | None:
        """The support group's on-call schedule; None when it has none."""
        return next((s for s in self.oncall if s.group == group), None)

    def item(self, name: str) -> ConfigurationItem:
        """The item of that name; KeyError when the catalogue has none."""
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)

    def known_hosts(self) -> frozenset[str]:
        """Every host an endpoint names, lower-case: the hosts the operator vouched for."""
        return frozenset(
            endpoint.host for item in self.items for endpoint in item.endpoints if endpoint.host
        )

    def all_checks(self) -> list[Check]:
        """The declared checks, then the checks each item's endpoints imply, item by item."""
        checks: list[Check] = list(self.checks)
        for item in self.items:
            checks.extend(_endpoint_checks(item))
        return checks

    def checks_of(self, kind: CheckKind) -> list[Check]:
        return [check for check in self.all_checks() if check.kind == kind]

    def dependents(self, name: str) -> list[str]:
        """Every item that depends on `name`, directly or through others, sorted; `name`
        itself is never among them, also when the dependencies go round in a circle."""
        needed_by: dict[str, list[str]] = {}
        for item in self.items:
            for needed in item.depends_on:
                needed_by.setdefault(needed, []).append(item.name)
        seen: set[str] = {name}
        queue = deque([name])
        while queue:
            for dependent in needed_by.get(queue.popleft(), []):
                if dependent not in seen:
                    seen.add(dependent)
                    queue.append(dependent)
        seen.discard(name)
        return sorted(seen)


def _numbered(base: str, index: int) -> str:
    return base if index == 1 else f"{base}-{index}"


def _endpoint_checks(item: ConfigurationItem) -> Iterable[Check]:
    """http(s) -> `<item>-http[-n]`, https also -> `<item>-tls[-n]`, tcp -> `<item>-tcp[-n]`."""
    counts = {"http": 0, "tls": 0, "tcp": 0}

    def name(suffix: str) -> str:
        counts[suffix] += 1
        return _numbered(f"{item.name}-{suffix}", counts[suffix])

    for endpoint in item.endpoints:
        if endpoint.scheme in ("http", "https"):
            yield HttpCheck(
                name=name("http"),
                service=item.name,
                ci=item.name,
                url=endpoint.url,
                contains=endpoint.contains,
                expect_status=list(endpoint.expect_status),
                max_latency_ms=endpoint.max_latency_ms,
            )
        if endpoint.scheme == "https":
            yield TlsCheck(
                name=name("tls"),
                service=item.name,
                ci=item.name,
                host=endpoint.host,
                port=endpoint.port,
            )
        if endpoint.scheme == "tcp":
            yield TcpCheck(
                name=name("tcp"),
                service=item.name,
                ci=item.name,
                host=endpoint.host,
                port=endpoint.port,
            )


def blast_radius(catalogue: Catalogue, name: str) -> Impact | None:
    """The impact of an outage of `name`, counting everything that fails with it.

    An item's own tier understates an outage: a tier-3 database that a tier-1 service needs
    takes the tier-1 service down with it. So the worst tier among the item and its (direct and
    transitive) dependents decides, and an outage that reaches many items is high whatever the
    tiers. high: a tier-1 item is hit or 5+ dependents; medium: a tier-2 item or any dependent;
    low: the item alone, tier 3.

    None for a name the catalogue does not know: events and incidents may name a CI before (or
    after) the catalogue does, and then the caller keeps the impact it was given instead of
    failing on a lookup.
    """
    try:
        item = catalogue.item(name)
    except KeyError:
        return None
    dependents = set(catalogue.dependents(name))
    tiers = {item.tier} | {other.tier for other in catalogue.items if other.name in dependents}
    if 1 in tiers or len(dependents) >= WIDE_OUTAGE:
        return Impact.HIGH
    if 2 in tiers or dependents:
        return Impact.MEDIUM
    return Impact.LOW
