"""The light CMDB: items, the checks their endpoints imply, dependents and blast radius, the
validation that keeps the catalogue consistent, and the TOML file it is read from."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from serviceops.catalogue_file import CatalogueError, load_catalogue_file
from serviceops.domain.cmdb import (
    DEFAULT_SCHEDULES,
    Catalogue,
    CheckKind,
    ConfigurationItem,
    DiskCheck,
    Endpoint,
    HttpCheck,
    ItemType,
    NetworkPolicy,
    TcpCheck,
    TlsCheck,
    blast_radius,
)
from serviceops.domain.priority import Impact

ROOT = Path(__file__).resolve().parents[2]


def item(name: str, tier: int = 3, *needs: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "owner_group": "ops", "tier": tier, "depends_on": list(needs)} | more


def catalogue(*items: dict[str, Any], **more: Any) -> Catalogue:
    return Catalogue.model_validate({"items": list(items)} | more)


# --------------------------------------------------------------------------- endpoints


def test_endpoint_host_and_port() -> None:
    assert Endpoint(url="https://API.Example.com/health").host == "api.example.com"
    assert Endpoint(url="https://api.example.com/health").port == 443
    assert Endpoint(url="http://api.example.com").port == 80
    assert Endpoint(url="tcp://db1:5432").port == 5432
    assert Endpoint(url="http://[::1]:8080/").host == "::1"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example.com",
        "tcp://db1",
        "tcp://db1:5432/path",
        "http:///nohost",
        "db1:5432",
        "http://example.com:99999/",
        "http://exa mple.com/",
    ],
)
def test_unsupported_endpoints_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        Endpoint(url=url)


def test_item_defaults_and_limits() -> None:
    plain = ConfigurationItem(name="billing", owner_group="billing", tier=1)
    assert plain.type is ItemType.SERVICE
    assert plain.endpoints == [] and plain.depends_on == []
    for bad in ({"tier": 0}, {"tier": 4}, {"name": "Billing"}, {"name": "x" * 101}):
        with pytest.raises(ValidationError):
            ConfigurationItem.model_validate({"name": "b", "owner_group": "o", "tier": 1} | bad)


# --------------------------------------------------------------------------- derived checks


def test_endpoints_give_http_tls_and_tcp_checks_named_after_the_item() -> None:
    cat = catalogue(
        item(
            "billing",
            1,
            endpoints=[
                {
                    "url": "https://billing.example.com/health",
                    "contains": "ok",
                    "expect_status": [200, 204],
                    "max_latency_ms": 500,
                },
                {"url": "http://billing-admin.example.com:8081/"},
                {"url": "tcp://billing-db.example.com:5432"},
                {"url": "https://billing.example.com:8443/"},
            ],
        ),
        checks=[{"kind": "disk", "name": "billing-disk", "service": "billing", "path": "/srv"}],
    )
    checks = {check.name: check for check in cat.all_checks()}

    assert sorted(checks) == [
        "billing-disk",
        "billing-http",
        "billing-http-2",
        "billing-http-3",
        "billing-tcp",
        "billing-tls",
        "billing-tls-2",
    ]
    first = checks["billing-http"]
    assert isinstance(first, HttpCheck)
    assert first.url == "https://billing.example.com/health"
    assert (first.contains, first.expect_status, first.max_latency_ms) == ("ok", [200, 204], 500)
    assert (first.service, first.ci) == ("billing", "billing")
    assert checks["billing-http-2"].url == "http://billing-admin.example.com:8081/"  # type: ignore[union-attr]
    tls, tls2 = checks["billing-tls"], checks["billing-tls-2"]
    assert isinstance(tls, TlsCheck) and isinstance(tls2, TlsCheck)
    assert (tls.host, tls.port, tls2.port) == ("billing.example.com", 443, 8443)
    tcp = checks["billing-tcp"]
    assert isinstance(tcp, TcpCheck) and (tcp.host, tcp.port) == ("billing-db.example.com", 5432)
    assert isinstance(checks["billing-disk"], DiskCheck)
    assert [c.name for c in cat.checks_of(CheckKind.TLS)] == ["billing-tls", "billing-tls-2"]
    assert [c.name for c in cat.checks_of(CheckKind.DISK)] == ["billing-disk"]


def test_known_hosts_are_every_endpoint_host_lower_case() -> None:
    cat = catalogue(
        item("a", endpoints=[{"url": "https://A.example.com/"}, {"url": "tcp://10.0.0.5:22"}]),
        item("b", endpoints=[{"url": "http://a.example.com:8080/"}]),
        item("c"),
    )
    assert cat.known_hosts() == frozenset({"a.example.com", "10.0.0.5"})


def test_schedules_keep_defaults_for_kinds_not_given() -> None:
    cat = catalogue(schedules={"http": 60})
    assert cat.schedules[CheckKind.HTTP] == 60
    assert cat.schedules[CheckKind.TLS] == DEFAULT_SCHEDULES[CheckKind.TLS]
    assert set(cat.schedules) == set(CheckKind)
    with pytest.raises(ValidationError):
        catalogue(schedules={"http": 0})
    with pytest.raises(ValidationError):
        catalogue(schedules={"ping": 60})


# --------------------------------------------------------------------------- dependencies


def test_dependents_are_transitive_and_sorted() -> None:
    cat = catalogue(
        item("db"),
        item("api", 3, "db"),
        item("web", 3, "api"),
        item("batch", 3, "db"),
        item("other"),
    )
    assert cat.dependents("db") == ["api", "batch", "web"]
    assert cat.dependents("api") == ["web"]
    assert cat.dependents("web") == []
    assert cat.dependents("unknown") == []


def test_dependents_survive_a_cycle_and_leave_the_item_out() -> None:
    cat = catalogue(item("a", 3, "c"), item("b", 3, "a"), item("c", 3, "b"), item("d", 3, "d"))
    assert cat.dependents("a") == ["b", "c"]
    assert cat.dependents("d") == []


def test_blast_radius_counts_dependents() -> None:
    cat = catalogue(
        item("lonely3"),
        item("lonely2", 2),
        item("lonely1", 1),
        item("db"),
        item("reporting", 3, "db"),
        item("shop", 1, "db"),
        item("cache"),
        item("cache-user", 3, "cache"),
        item("queue"),
        *(item(f"worker{n}", 3, "queue") for n in range(5)),
        item("mid"),
        item("mid-user", 2, "mid"),
    )
    assert blast_radius(cat, "lonely3") == Impact.LOW
    assert blast_radius(cat, "lonely2") == Impact.MEDIUM
    assert blast_radius(cat, "lonely1") == Impact.HIGH
    assert blast_radius(cat, "db") == Impact.HIGH, "a tier-1 dependent makes a tier-3 item high"
    assert blast_radius(cat, "cache") == Impact.MEDIUM, "one dependent is medium whatever its tier"
    assert blast_radius(cat, "mid") == Impact.MEDIUM
    assert blast_radius(cat, "queue") == Impact.HIGH, "five dependents are a wide outage"
    assert blast_radius(cat, "nowhere") is None


def test_four_tier_3_dependents_are_still_medium() -> None:
    cat = catalogue(item("q"), *(item(f"w{n}", 3, "q") for n in range(4)))
    assert blast_radius(cat, "q") == Impact.MEDIUM


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"items": [item("a", 3, "ghost")]}, "ghost"),
        ({"items": [item("a"), item("a")]}, "duplicate names a"),
        (
            {
                "items": [item("a")],
                "checks": [{"kind": "disk", "name": "d", "service": "ghost", "path": "/"}],
            },
            "ghost",
        ),
        (
            {
                "items": [item("a")],
                "checks": [
                    {"kind": "disk", "name": "d", "service": "a", "ci": "ghost", "path": "/"}
                ],
            },
            "ghost",
        ),
        (
            {
                "items": [item("a")],
                "checks": [
                    {"kind": "disk", "name": "d", "service": "a", "path": "/"},
                    {"kind": "disk", "name": "d", "service": "a", "path": "/var"},
                ],
            },
            "duplicate names d",
        ),
        (
            {
                "items": [item("a", endpoints=[{"url": "http://a.example.com/"}])],
                "checks": [
                    {"kind": "tcp", "name": "a-http", "service": "a", "host": "a", "port": 1}
                ],
            },
            "duplicate names a-http",
        ),
        (
            {
                "items": [item("a")],
                "checks": [
                    {"kind": "backup", "name": "b", "service": "a", "path": "/", "max_age_hour": 4}
                ],
            },
            "max_age_hour",
        ),
        ({"items": [item("a", owner="x")]}, "owner"),
        ({"items": [item("a" * 100, endpoints=[{"url": "http://a/"}])]}, "endpoints give a bad"),
    ],
    ids=[
        "unknown-dependency",
        "duplicate-item",
        "check-unknown-service",
        "check-unknown-ci",
        "duplicate-check",
        "check-clashes-with-endpoint-check",
        "misspelt-check-field",
        "unknown-item-field",
        "derived-check-name-too-long",
    ],
)
def test_inconsistent_catalogues_are_refused(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Catalogue.model_validate(document)


def test_item_lookup() -> None:
    cat = catalogue(item("a", 2))
    assert cat.item("a").tier == 2
    with pytest.raises(KeyError):
        cat.item("b")


# --------------------------------------------------------------------------- the file


GOOD = """
[network]
allow_loopback = true
allow_hosts = ["status.example.com"]
allow_database_dirs = ["/var/lib/app", "state"]

[schedules]
http = 120

[[items]]
name = "gateway"
type = "application"
owner_group = "operations"
tier = 2
depends_on = ["database"]
endpoints = [{ url = "http://127.0.0.1:8080/healthz", contains = "ok" }]

[[items]]
name = "database"
type = "database"
owner_group = "dba"
tier = 1

[[checks]]
kind = "disk"
name = "state-disk"
service = "database"
path = ".serviceops"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cmdb.toml"
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    cat = load_catalogue_file(write(tmp_path, GOOD))
    assert [i.name for i in cat.items] == ["gateway", "database"]
    assert cat.item("database").type is ItemType.DATABASE
    assert cat.network == NetworkPolicy(
        allow_loopback=True,
        allow_hosts=["status.example.com"],
        allow_database_dirs=["/var/lib/app", "state"],
    )
    assert cat.schedules[CheckKind.HTTP] == 120
    assert sorted(c.name for c in cat.all_checks()) == ["gateway-http", "state-disk"]
    assert blast_radius(cat, "database") == Impact.HIGH


def test_the_default_catalogue_of_the_repository_loads() -> None:
    cat = load_catalogue_file(ROOT / "cmdb.toml")
    names = {i.name for i in cat.items}
    assert {"serviceops-gateway", "prefect-server", "serviceops-database"} <= names
    assert cat.item("serviceops-database").type is ItemType.DATABASE
    assert cat.network.allow_loopback, "make up checks itself on loopback"
    kinds = {check.kind for check in cat.all_checks()}
    assert {"http", "disk", "database"} <= kinds
    gateway = next(c for c in cat.checks_of(CheckKind.HTTP) if c.service == "serviceops-gateway")
    assert isinstance(gateway, HttpCheck)
    assert (gateway.url, gateway.contains) == ("http://127.0.0.1:8080/healthz", "ok")
    assert cat.known_hosts() == frozenset({"127.0.0.1"})
    assert cat.network.allow_database_dirs == [".serviceops"], "its sqlite check's directory"


def test_database_directories_are_not_empty_and_allow_nothing_by_default() -> None:
    assert NetworkPolicy().allow_database_dirs == []
    with pytest.raises(ValidationError, match="allow_database_dirs"):
        Catalogue.model_validate({"network": {"allow_database_dirs": [""]}})


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[[items]\nname = ")
    with pytest.raises(CatalogueError, match="not valid TOML") as raised:
        load_catalogue_file(path)
    assert str(path) in str(raised.value)


def test_a_missing_file_is_a_catalogue_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue_file(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("tier = 1", "tier = 9"), "items[1] (database).tier"),
        (('path = ".serviceops"', ""), "checks[0] (state-disk).path"),
        (("http = 120", "http = -1"), "schedules.http"),
        (
            ('url = "http://127.0.0.1:8080/healthz"', 'url = "gopher://x"'),
            "items[0] (gateway).endpoints[0].url",
        ),
        (('depends_on = ["database"]', 'depends_on = ["databse"]'), "databse"),
    ],
    ids=["item-field", "check-field", "schedule", "endpoint", "unknown-dependency"],
)
def test_a_bad_field_is_named(tmp_path: Path, change: tuple[str, str], where: str) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(CatalogueError) as raised:
        load_catalogue_file(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    assert where in message
    assert "Traceback" not in message and "pydantic" not in message
