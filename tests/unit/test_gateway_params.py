"""Every read endpoint's parameters, found in the app's OpenAPI document (so a new router is
covered the day it is included): values a bare `int`, `str` or `date` lets through but the
database or the calendar cannot take are 422 naming the parameter, never 500, on SQLite and
on PostgreSQL."""

import re
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import sessionmaker

from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.base import MAX_ROW_ID
from serviceops.store.db import make_engine, migrate
from tests.conftest import postgres_schema
from tests.unit.gateway_support import AUTH, TOKEN

PAST_64_BITS = 2**63
NUMBER_PREFIX = re.compile(r"^\^([A-Z]+)-")


def _read_operations() -> dict[str, list[dict[str, Any]]]:
    """Each `GET /api/v1/...` path and its parameters, as the app documents them."""
    app = create_app(Settings(database_url="sqlite://"), sessions=sessionmaker())
    paths = app.openapi()["paths"]
    return {
        path: operations["get"].get("parameters", [])
        for path, operations in paths.items()
        if path.startswith("/api/v1/") and "get" in operations
    }


OPERATIONS = _read_operations()


def _kinds(schema: dict[str, Any]) -> set[str]:
    """`integer`, `string`, `date` ... of a parameter, looking through `X | None`."""
    options = schema.get("anyOf", [schema])
    return {option.get("format", option.get("type", "enum")) for option in options}


def _parameters(where: str, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, parameter["name"], parameter["schema"])
        for path, parameters in OPERATIONS.items()
        for parameter in parameters
        if parameter["in"] == where and kind in _kinds(parameter["schema"])
    ]


def _url(path: str, query: dict[str, str] | None = None, **path_values: str) -> str:
    url = path.format(**{name: quote(value) for name, value in path_values.items()})
    if query:
        url += "?" + "&".join(f"{name}={quote(value)}" for name, value in query.items())
    return url


def _prefix(schema: dict[str, Any]) -> str:
    """INC of a path parameter whose pattern is ^INC-..."""
    found = NUMBER_PREFIX.match(schema["pattern"])
    assert found, schema
    return found[1]


def _id(case: tuple[str, str, dict[str, Any]]) -> str:
    return f"{case[0].removeprefix('/api/v1/')}:{case[1]}"


INTEGERS = _parameters("query", "integer")
TEXTS = _parameters("query", "string")
DATES = _parameters("query", "date")
PATH_TEXTS = _parameters("path", "string")
NUMBERS = [(path, name, schema) for path, name, schema in PATH_TEXTS if name == "number"]


def test_the_enumeration_finds_every_read_endpoint() -> None:
    """Guards the tests below against passing on an empty list."""
    paged = {path for path, name, _ in INTEGERS if name == "offset"}
    assert paged == {
        f"/api/v1/{records}"
        for records in (
            "incidents",
            "requests",
            "events",
            "alerts",
            "silences",
            "problems",
            "known-errors",
        )
    }
    assert {_prefix(schema) for _, _, schema in NUMBERS} == {
        "INC",
        "REQ",
        "EVT",
        "ALR",
        "SIL",
        "PRB",
        "KE",
    }
    assert {name for _, name, _ in TEXTS} >= {"service", "requester", "q", "tz", "first_line"}
    assert [(path, name) for path, name, _ in DATES] == [("/api/v1/kpis", "end")]


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One migrated, empty database per backend for the whole module: the answers checked
    here come before any record is needed."""
    sqlite = nullcontext(f"sqlite:///{tmp_path_factory.mktemp('db') / 'serviceops.db'}")
    with postgres_schema() if request.param == "postgres" else sqlite as url:
        migrate(url)
        engine = make_engine(url)
        settings = Settings(
            state_dir=tmp_path_factory.mktemp("state"), database_url=url, api_token=SecretStr(TOKEN)
        )
        app = create_app(settings, sessions=sessionmaker(engine, expire_on_commit=False))
        try:
            with TestClient(app, raise_server_exceptions=False) as test_client:
                yield test_client
        finally:
            engine.dispose()


def _assert_422_naming(client: TestClient, url: str, where: str, name: str) -> None:
    response = client.get(url, headers=AUTH)
    assert response.status_code == 422, (url, response.text)
    errors = response.json()["detail"]
    assert [error["loc"] for error in errors] == [[where, name]], url
    assert all(error["msg"] and error["type"] for error in errors)


@pytest.mark.parametrize("case", INTEGERS, ids=_id)
@pytest.mark.parametrize("value", [PAST_64_BITS, MAX_ROW_ID + 1], ids=["past-64-bits", "past-ids"])
def test_integer_past_the_row_ids_is_422(
    client: TestClient, case: tuple[str, str, dict[str, Any]], value: int
) -> None:
    path, name, _ = case
    _assert_422_naming(client, _url(path, {name: str(value)}, name="ok-name"), "query", name)


@pytest.mark.parametrize("path", sorted({path for path, name, _ in INTEGERS if name == "offset"}))
def test_offset_at_the_last_row_id_is_an_empty_page(client: TestClient, path: str) -> None:
    response = client.get(_url(path, {"offset": str(MAX_ROW_ID)}), headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 0


@pytest.mark.parametrize("case", NUMBERS, ids=_id)
@pytest.mark.parametrize("value", [PAST_64_BITS, MAX_ROW_ID + 1], ids=["past-64-bits", "past-ids"])
def test_number_past_the_row_ids_is_422(
    client: TestClient, case: tuple[str, str, dict[str, Any]], value: int
) -> None:
    path, name, schema = case
    number = f"{_prefix(schema)}-{value}"
    _assert_422_naming(client, _url(path, number=number), "path", name)


@pytest.mark.parametrize("case", NUMBERS, ids=_id)
def test_number_at_the_last_row_id_is_404(
    client: TestClient, case: tuple[str, str, dict[str, Any]]
) -> None:
    path, _, schema = case
    number = f"{_prefix(schema)}-{MAX_ROW_ID}"
    response = client.get(_url(path, number=number), headers=AUTH)
    assert response.status_code == 404, response.text
    assert response.json()["detail"].endswith(f" {number}")


@pytest.mark.parametrize("case", TEXTS, ids=_id)
def test_nul_in_a_text_query_parameter_is_422(
    client: TestClient, case: tuple[str, str, dict[str, Any]]
) -> None:
    """PostgreSQL text cannot hold NUL: comparing a column with one fails in the database."""
    path, name, _ = case
    _assert_422_naming(client, _url(path, {name: "a\x00b"}, name="ok-name"), "query", name)


@pytest.mark.parametrize("case", PATH_TEXTS, ids=_id)
def test_nul_in_a_path_parameter_is_422(
    client: TestClient, case: tuple[str, str, dict[str, Any]]
) -> None:
    path, name, _ = case
    _assert_422_naming(client, _url(path, **{name: "a\x00b"}), "path", name)


@pytest.mark.parametrize("case", [c for c in TEXTS if c[1] in {"service", "requester"}], ids=_id)
def test_a_lone_surrogate_escape_in_a_query_arrives_replaced(
    client: TestClient, case: tuple[str, str, dict[str, Any]]
) -> None:
    """%ED%A0%80 (UTF-8 of U+D800) is decoded with replacement characters before any
    parameter sees it, so it filters like any other text and matches nothing."""
    path, name, _ = case
    response = client.get(f"{path}?{name}=%ED%A0%80", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 0


@pytest.mark.parametrize("case", DATES, ids=_id)
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("period", ["daily", "weekly"])
def test_a_day_at_the_ends_of_the_calendar_is_422(
    client: TestClient, case: tuple[str, str, dict[str, Any]], day: str, period: str
) -> None:
    path, name, _ = case
    _assert_422_naming(client, _url(path, {name: day, "period": period}), "query", name)


@pytest.mark.parametrize("case", NUMBERS, ids=_id)
def test_a_number_in_other_digits_is_422(
    client: TestClient, case: tuple[str, str, dict[str, Any]]
) -> None:
    """Record numbers are ASCII: int() reads Arabic-Indic digits as 123456 too."""
    path, name, schema = case
    arabic_indic = "".join(chr(0x0660 + digit) for digit in (1, 2, 3, 4, 5, 6))
    _assert_422_naming(client, _url(path, number=f"{_prefix(schema)}-{arabic_indic}"), "path", name)
