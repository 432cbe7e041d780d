"""Issue 9, every operation the gateway documents, fuzzed from its own OpenAPI by schemathesis
in process: no answer is a 5xx, with the read API's token (so the read code runs, not only the
401) and without it, on SQLite and PostgreSQL.

The database is seeded first (incidents, a request, events and alerts, problems and known
errors, services and checks), and the generated path parameters are mixed with those records'
numbers and names: a detail route then reads real rows, not only 404s. Schemathesis runs its
examples, coverage (boundary values: huge integers, NUL, empty and overlong strings) and
fuzzing phases; Hypothesis is derandomized, so every run sends the same requests.

Why not `schemathesis.pytest.from_fixture`: its lazy loader renames pytest items through
`Function._nodeid`, which pytest 9 no longer has, so every test errors before it runs. The
schema is loaded once from an app that has no database (building the OpenAPI document
connects nothing), and each call goes to the seeded app of the backend under test.

Why one seeded database per backend for the whole module, not per test: each operation is
its own pytest item, and migrating and seeding PostgreSQL takes about two seconds, which
ninety items would spend before sending a request. The operations only read, or write
records nobody else looks at, so sharing the seed changes no outcome.
"""

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.cmdb import Catalogue, CheckKind, CheckResult, CheckStatus
from serviceops.gateway.app import create_app
from serviceops.store.cmdb import CatalogueRepository, CheckRunRepository
from serviceops.store.db import make_engine, migrate
from tests.conftest import postgres_schema
from tests.unit.fuzz_gateway_support import FUZZ, fuzz_app, gateway_settings, seed_awaiting_approval
from tests.unit.gateway_support import AUTH
from tests.unit.seed import seed_incidents
from tests.unit.test_gateway_catalogue import CATALOGUE
from tests.unit.test_gateway_events import seed_events
from tests.unit.test_gateway_problems import seed_problems

# Per operation, for the fuzzing phase; the examples and coverage phases add their own cases.
# Without a token every read stops at the token check, so a few cases show it holds there.
EXAMPLES = 20
ANONYMOUS_EXAMPLES = 5

# What the seeds wrote, by the path of the detail route that reads it.
KNOWN: dict[str, list[dict[str, str]]] = {
    "/api/v1/incidents/{number}": [{"number": "INC-000001"}, {"number": "INC-000004"}],
    "/api/v1/requests/{number}": [{"number": "REQ-000001"}],
    "/api/v1/events/{number}": [{"number": "EVT-000001"}, {"number": "EVT-000006"}],
    "/api/v1/alerts/{number}": [{"number": "ALR-000001"}, {"number": "ALR-000002"}],
    "/api/v1/problems/{number}": [{"number": "PRB-000001"}, {"number": "PRB-000002"}],
    "/api/v1/known-errors/{number}": [{"number": "KE-000001"}, {"number": "KE-000003"}],
    "/api/v1/services/{name}": [{"name": "shop"}, {"name": "shop-db"}],
    "/api/v1/checks/{name}": [{"name": "shop-http"}, {"name": "shop-db-select"}],
}

schema = schemathesis.openapi.from_dict(
    create_app(gateway_settings(Path("unused"), "sqlite://"), sessions=sessionmaker()).openapi()
)


@schema.hook
def before_generate_path_parameters(context: Any, strategy: st.SearchStrategy) -> Any:
    """Half of a detail route's path parameters name a seeded record (see KNOWN)."""
    known = KNOWN.get(context.operation.path) if context.operation else None
    return strategy if known is None else strategy | st.sampled_from(known)


def _boundary(value: Any) -> st.SearchStrategy[Any]:
    """The value, or one past what the layers below take: an integer past 64 bits, a string
    with a NUL, a record number of 30 digits. Hypothesis draws those rarely and the coverage
    phase only tries the schema's own bounds; shrinking goes back to the value itself."""
    if isinstance(value, bool):
        return st.just(value)
    if isinstance(value, int):
        return st.sampled_from([value, 2**63, -(2**63) - 1, 10**30])
    if isinstance(value, str):
        return st.sampled_from([value, value + "\x00", re.sub(r"\d+", "9" * 30, value)])
    return st.just(value)


def _boundaries(parameters: Any) -> st.SearchStrategy[Any]:
    if not isinstance(parameters, dict):  # negative generation may send no object at all
        return st.just(parameters)
    return st.fixed_dictionaries({name: _boundary(value) for name, value in parameters.items()})


@schema.hook
def flatmap_query(context: Any, query: Any) -> st.SearchStrategy[Any]:
    return _boundaries(query)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _boundaries(path_parameters)


def _seed(sessions: sessionmaker[Session]) -> None:
    """A record behind every detail route (KNOWN), from the read-side tests' own seeds."""
    seed_incidents(sessions)
    seed_awaiting_approval(sessions)
    seed_events(sessions)
    seed_problems(sessions)
    at = datetime.now(UTC)
    with sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue.model_validate(CATALOGUE), at, "cmdb.toml")
        CheckRunRepository(session).add_many(
            [
                CheckResult(
                    check="shop-http",
                    kind=CheckKind.HTTP,
                    service="shop",
                    target="https://shop.example.com/health",
                    status=status,
                    summary=status.value,
                    latency_ms=12.5,
                    checked_at=at - timedelta(minutes=minutes),
                )
                for minutes, status in enumerate([CheckStatus.OK, CheckStatus.CRITICAL])
            ]
        )


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def seeded_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    """The fuzzing gateway (tests.unit.fuzz_gateway_support) on a migrated, seeded database of
    each backend in turn; PostgreSQL as tests/conftest.py gives it (fails when unreachable)."""
    state = tmp_path_factory.mktemp(f"openapi-{request.param}")
    database: AbstractContextManager[str] = (
        nullcontext(f"sqlite:///{state / 'serviceops.db'}")
        if request.param == "sqlite"
        else postgres_schema()
    )
    with database as url:
        migrate(url)
        engine = make_engine(url)
        try:
            sessions = sessionmaker(engine, expire_on_commit=False)
            _seed(sessions)
            yield fuzz_app(state, url, sessions)
        finally:
            engine.dispose()


@settings(FUZZ, max_examples=EXAMPLES)
@schema.parametrize()
def test_with_the_token_no_operation_answers_5xx(
    case: schemathesis.Case, seeded_gateway: FastAPI
) -> None:
    case.call_and_validate(app=seeded_gateway, headers=AUTH, checks=[not_a_server_error])


@settings(FUZZ, max_examples=ANONYMOUS_EXAMPLES)
@schema.include(path_regex=r"^/api/v1/").parametrize()
def test_without_a_token_no_read_answers_5xx(
    case: schemathesis.Case, seeded_gateway: FastAPI
) -> None:
    case.call_and_validate(app=seeded_gateway, checks=[not_a_server_error])
