"""Read API for problems and the KEDB: auth, pages and filters, the problem document with its
incidents and audit trail, 404 and 422, and the known-error search ranking, on SQLite and
PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.incident import (
    IncidentDraft,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.problem import (
    KnownError,
    Problem,
    ProblemDraft,
    ProblemSource,
    ProblemState,
    logged,
    trend_grew,
)
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.problem import KnownErrorRepository, ProblemRepository
from tests.unit.gateway_support import AUTH, TOKEN

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
FLOW_RUN_ID = "8b0c5f0e-0000-4000-8000-00000000000a"

# The public contract, spelled out: a renamed field must fail here, not in a reader's script.
PROBLEM_FIELDS = {
    "number", "title", "description", "state", "source", "trend_key", "service", "ci",
    "category", "impact", "urgency", "priority", "priority_label", "frequency", "major",
    "reporter", "root_cause", "investigation_notes", "workaround", "known_error_number",
    "change_ref", "resolution", "review_summary", "review_lessons", "created_at", "updated_at",
    "resolved_at", "closed_at", "reviewed_at",
}  # fmt: skip
KNOWN_ERROR_FIELDS = {
    "number", "title", "service", "ci", "affected_cis", "category", "symptom", "root_cause",
    "workaround", "problem_number", "active", "created_at",
}  # fmt: skip


def _incident(title: str, service: str) -> IncidentDraft:
    return IncidentDraft(
        title=title,
        service=service,
        category="software/email" if service == "mail" else "network/vpn",
        impact=Impact.MEDIUM,
        urgency=Urgency.MEDIUM,
        reporter="bob",
    )


def seed_problems(sessions: sessionmaker[Session]) -> None:
    """Three incidents, three problems and four known errors, numbered the same everywhere:

    PRB-000001 trend service:mail, investigating, INC-000001 + INC-000002 linked, audited
    PRB-000002 manual "VPN tunnel drops", known_error (KE-000002), P2
    PRB-000003 manual "Printer offline", closed
    KE-000001 mail/mx-1 "Mail queue stuck"      (affected mx-2)
    KE-000002 vpn "VPN tunnel drops hourly"      (raised from PRB-000002)
    KE-000003 "Printer queue jammed", retired
    KE-000004 mail "Mail client slow to open"
    """
    with sessions.begin() as session:
        incidents = IncidentRepository(session)
        for number, (title, service) in enumerate(
            [("Mail bounces", "mail"), ("Mail delayed", "mail"), ("VPN drops", "vpn")]
        ):
            incidents.add(_incident(title, service), T0 - (3 - number) * HOUR)

        problems, audit = ProblemRepository(session), AuditRepository(session)
        mail = problems.add(
            ProblemDraft(title="Recurring incidents on service mail", service="mail"),
            ProblemSource.TREND,
            T0,
            trend_key="service:mail",
        )
        audit.add(logged(mail))
        problems.link(mail.number, ["INC-000001", "INC-000002"], T0)
        audit.add(trend_grew(problems.get(mail.number), "serviceops", T0))
        problems.save(
            problems.get(mail.number).model_copy(
                update={
                    "state": ProblemState.INVESTIGATING,
                    "investigation_notes": "queue grows at 09:00",
                    "updated_at": T0 + HOUR,
                }
            )
        )
        audit.add(
            AuditEntry(
                record=mail.number,
                action="investigate",
                actor="alice",
                at=T0 + HOUR,
                from_state=ProblemState.NEW,
                to_state=ProblemState.INVESTIGATING,
                reason="queue grows at 09:00",
                flow_run_id=FLOW_RUN_ID,
            )
        )

        draft = ProblemDraft(title="VPN tunnel drops", service="vpn", reporter="carol")
        vpn = problems.add(draft, ProblemSource.MANUAL, T0 + HOUR)
        audit.add(logged(vpn))
        printer = problems.add(
            ProblemDraft(title="Printer offline", category="hardware/printer", reporter="dave"),
            ProblemSource.MANUAL,
            T0 + 2 * HOUR,
        )
        problems.save(
            printer.model_copy(update={"state": ProblemState.CLOSED, "closed_at": T0 + 3 * HOUR})
        )

        kedb = KnownErrorRepository(session)
        for service, ci, title, symptom, extra in [
            ("mail", "mx-1", "Mail queue stuck", "outbound queue stuck, messages delayed", {}),
            (
                "vpn",
                None,
                "VPN tunnel drops hourly",
                "tunnel disconnects every hour",
                {"problem_number": vpn.number},
            ),
            (None, None, "Printer queue jammed", "print queue stuck", {}),
            ("mail", None, "Mail client slow to open", "client takes a minute to open", {}),
        ]:
            kedb.add(
                KnownError(
                    number="KE-NEW",
                    title=title,
                    service=service,
                    ci=ci,
                    affected_cis=["mx-2"] if ci else [],
                    symptom=symptom,
                    root_cause="found",
                    workaround=f"workaround for {title.lower()}",
                    created_at=T0,
                    **extra,
                )
            )
        kedb.deactivate("KE-000003")
        problems.save(
            problems.get(vpn.number).model_copy(
                update={
                    "state": ProblemState.KNOWN_ERROR,
                    "known_error_number": "KE-000002",
                    "priority": Priority.HIGH,
                    "impact": Impact.HIGH,
                }
            )
        )


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    seed_problems(sessions)
    settings = Settings(
        state_dir=tmp_path / "state", database_url=database_url, api_token=SecretStr(TOKEN)
    )
    with TestClient(create_app(settings, sessions=sessions)) as test_client:
        yield test_client


def _numbers(response: httpx.Response, records: str) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body[records])
    return [record["number"] for record in body[records]]


UNAUTHORIZED = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}]


def test_without_the_right_token_is_401(client: TestClient) -> None:
    """Missing, wrong, and not a bearer token (one database for all: each costs a migration)."""
    paths = ["/api/v1/problems", "/api/v1/problems/PRB-000001"]
    paths += ["/api/v1/known-errors", "/api/v1/known-errors/KE-000001"]
    for headers in UNAUTHORIZED:
        for path in paths:
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_problem_list_is_newest_first_with_the_public_fields(client: TestClient) -> None:
    response = client.get("/api/v1/problems", headers=AUTH)
    assert _numbers(response, "problems") == ["PRB-000003", "PRB-000002", "PRB-000001"]
    body = response.json()
    assert (body["limit"], body["offset"]) == (100, 0)
    assert all(set(view) == PROBLEM_FIELDS for view in body["problems"])
    closed, vpn, mail = body["problems"]
    assert (mail["state"], mail["source"], mail["trend_key"]) == (
        "investigating",
        "trend",
        "service:mail",
    )
    assert mail["frequency"] == 2 and mail["priority"] is None
    assert (vpn["state"], vpn["priority"], vpn["priority_label"]) == ("known_error", 2, "P2 High")
    assert (vpn["impact"], vpn["urgency"], vpn["known_error_number"]) == (
        "high",
        "medium",
        "KE-000002",
    )
    assert closed["state"] == "closed" and closed["closed_at"] == "2026-03-02T12:00:00Z"


FILTERS = [
    ("state=investigating", ["PRB-000001"]),
    ("state=known_error", ["PRB-000002"]),
    ("state=new", []),
    ("limit=1&offset=1", ["PRB-000002"]),
    ("offset=3", []),
]


def test_problem_list_filters_and_pages(client: TestClient) -> None:
    for query, expected in FILTERS:
        response = client.get(f"/api/v1/problems?{query}", headers=AUTH)
        assert _numbers(response, "problems") == expected, query


def test_problem_document_has_its_incidents_and_audit_trail(client: TestClient) -> None:
    response = client.get("/api/v1/problems/PRB-000001", headers=AUTH)
    assert response.status_code == 200, response.text
    document = response.json()
    assert set(document) == {"problem", "incidents", "audit"}
    assert document["problem"]["number"] == "PRB-000001"
    assert document["problem"]["investigation_notes"] == "queue grows at 09:00"
    assert document["incidents"] == ["INC-000001", "INC-000002"]
    assert [entry["action"] for entry in document["audit"]] == ["log", "link", "investigate"]
    investigate = document["audit"][-1]
    assert (investigate["from_state"], investigate["to_state"]) == ("new", "investigating")
    assert investigate["flow_run_id"] == FLOW_RUN_ID
    assert document["audit"][1]["reason"] == "trend went on: 2 incident(s) linked now"


def test_problem_without_links_or_audit(client: TestClient) -> None:
    document = client.get("/api/v1/problems/PRB-000003", headers=AUTH).json()
    assert (document["incidents"], document["audit"]) == ([], [])


def test_unknown_numbers_are_404(client: TestClient) -> None:
    response = client.get("/api/v1/problems/PRB-000099", headers=AUTH)
    assert (response.status_code, response.json()) == (404, {"detail": "no problem PRB-000099"})
    response = client.get("/api/v1/known-errors/KE-000099", headers=AUTH)
    assert (response.status_code, response.json()) == (404, {"detail": "no known error KE-000099"})


BAD_INPUT = [
    ("/api/v1/problems/PRB-1", "number"),
    ("/api/v1/problems/INC-000001", "number"),
    ("/api/v1/problems/prb-000001", "number"),
    ("/api/v1/known-errors/KE-12", "number"),
    ("/api/v1/known-errors/PRB-000001", "number"),
    ("/api/v1/problems?state=open", "state"),
    ("/api/v1/problems?limit=0", "limit"),
    ("/api/v1/problems?limit=501", "limit"),
    ("/api/v1/problems?offset=-1", "offset"),
    ("/api/v1/known-errors?limit=501", "limit"),
    ("/api/v1/known-errors?q=", "q"),
]


def test_bad_input_is_422_naming_the_field(client: TestClient) -> None:
    for path, field in BAD_INPUT:
        response = client.get(path, headers=AUTH)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"][0]["loc"][-1] == field, path


def test_known_error_list_is_the_active_kedb_newest_first(client: TestClient) -> None:
    response = client.get("/api/v1/known-errors", headers=AUTH)
    assert _numbers(response, "known_errors") == ["KE-000004", "KE-000002", "KE-000001"]
    body = response.json()
    assert all(set(view) == KNOWN_ERROR_FIELDS for view in body["known_errors"])
    assert all(view["active"] for view in body["known_errors"])
    mail = body["known_errors"][-1]
    assert (mail["service"], mail["ci"], mail["affected_cis"]) == ("mail", "mx-1", ["mx-2"])
    assert mail["symptom"] == "outbound queue stuck, messages delayed"
    assert mail["workaround"] == "workaround for mail queue stuck"
    assert body["known_errors"][1]["problem_number"] == "PRB-000002"
    paged = client.get("/api/v1/known-errors?limit=1&offset=1", headers=AUTH)
    assert _numbers(paged, "known_errors") == ["KE-000002"]


def test_known_error_search_ranks_the_best_match_first(client: TestClient) -> None:
    # KE-1 shares mail, queue, stuck; KE-4 mail only; KE-3 shares queue, stuck but is retired.
    response = client.get("/api/v1/known-errors", params={"q": "Mail queue STUCK"}, headers=AUTH)
    assert _numbers(response, "known_errors") == ["KE-000001", "KE-000004"]
    second = client.get(
        "/api/v1/known-errors", params={"q": "mail queue stuck", "offset": 1}, headers=AUTH
    )
    assert _numbers(second, "known_errors") == ["KE-000004"]
    assert second.json()["offset"] == 1
    tunnel = client.get("/api/v1/known-errors", params={"q": "tunnel"}, headers=AUTH)
    assert _numbers(tunnel, "known_errors") == ["KE-000002"]
    nothing = client.get("/api/v1/known-errors", params={"q": "xyzzy"}, headers=AUTH)
    assert _numbers(nothing, "known_errors") == []


def test_known_error_document_shows_retired_ones_as_inactive(client: TestClient) -> None:
    response = client.get("/api/v1/known-errors/KE-000003", headers=AUTH)
    assert response.status_code == 200, response.text
    view = response.json()["known_error"]
    assert set(view) == KNOWN_ERROR_FIELDS
    assert (view["number"], view["active"], view["service"]) == ("KE-000003", False, None)
    active = client.get("/api/v1/known-errors/KE-000002", headers=AUTH).json()["known_error"]
    assert active["active"] is True
    assert active["created_at"] == "2026-03-02T09:00:00Z"


def test_views_carry_every_public_field_of_the_domain_models() -> None:
    """A field added to Problem or KnownError shows up in the contract (or fails here).
    The linked incidents are the document's `incidents`, the count is `frequency`."""
    assert set(Problem.model_fields) - {"incident_numbers"} == PROBLEM_FIELDS - {"priority_label"}
    assert set(KnownError.model_fields) == KNOWN_ERROR_FIELDS - {"active"}
