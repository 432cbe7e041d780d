"""Read API for service requests and the catalogue: auth, filters, documents, errors; in
process and over a real socket, on both database backends."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import (
    Approval,
    ApprovalKind,
    RequestState,
    RequestSubmission,
    catalogue,
    fulfilment,
)
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.audit import AuditRepository
from serviceops.store.request import RequestRepository
from tests.unit.gateway_support import AUTH, TOKEN, serve

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
FLOW_RUN_ID = "0f0e0d0c-0000-4000-8000-000000000001"


def _seed(sessions: sessionmaker[Session]) -> None:
    """REQ-000001 laptop (alice, awaiting manager approval after financial), REQ-000002 VPN
    (bob, submitted), REQ-000003 password reset (alice, closed)."""
    submissions = [
        {
            "requester": "alice",
            "details": {
                "type": "new_laptop",
                "model": "executive",
                "cost": "2400.50",
                "justification": "Board member",
                "deliver_to": "carol",
            },
        },
        {"requester": "bob", "details": {"type": "vpn_access", "user": "bob"}},
        {"requester": "alice", "details": {"type": "password_reset", "account": "alice-admin"}},
    ]
    with sessions.begin() as session:
        requests, audit = RequestRepository(session), AuditRepository(session)
        for minutes, document in enumerate(submissions):
            submission = RequestSubmission.model_validate(document)
            request = requests.add(submission, source="portal", at=T0 + timedelta(minutes=minutes))
            audit.add(fulfilment.submitted(request))
        laptop = requests.get("REQ-000001")
        requests.save(
            laptop.model_copy(
                update={
                    "state": RequestState.AWAITING_APPROVAL,
                    "approvals_required": [ApprovalKind.FINANCIAL, ApprovalKind.MANAGER],
                    "approvals": [
                        Approval(
                            kind=ApprovalKind.FINANCIAL,
                            approver="dave",
                            approved=True,
                            comment="ok",
                            at=T0 + timedelta(hours=1),
                        )
                    ],
                    "approval_due_at": T0 + timedelta(days=1),
                    "flow_run_id": FLOW_RUN_ID,
                }
            )
        )
        reset = requests.get("REQ-000003")
        requests.save(
            reset.model_copy(
                update={
                    "state": RequestState.CLOSED,
                    "completed_steps": ["reset_password"],
                    "fulfilled_at": T0 + timedelta(hours=2),
                    "closed_at": T0 + timedelta(hours=3),
                }
            )
        )


@pytest.fixture
def app(tmp_path: Path, database_url: str, sessions: sessionmaker[Session]) -> FastAPI:
    _seed(sessions)
    settings = Settings(
        state_dir=tmp_path / "state", database_url=database_url, api_token=SecretStr(TOKEN)
    )
    return create_app(settings, sessions=sessions)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _numbers(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["requests"])
    return [request["number"] for request in body["requests"]]


PATHS = ["/api/v1/requests", "/api/v1/requests/REQ-000001", "/api/v1/catalogue"]


@pytest.mark.parametrize("path", PATHS)
def test_every_path_needs_the_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(path, headers=AUTH).status_code == 200


def test_list_is_newest_first_with_the_public_fields(client: TestClient) -> None:
    response = client.get("/api/v1/requests", headers=AUTH)
    assert _numbers(response) == ["REQ-000003", "REQ-000002", "REQ-000001"]
    body = response.json()
    assert (body["limit"], body["offset"]) == (100, 0)
    laptop = body["requests"][2]
    assert laptop == {
        "number": "REQ-000001",
        "type": "new_laptop",
        "title": "New laptop",
        "requester": "alice",
        "source": "portal",
        "state": "awaiting_approval",
        "details": {
            "type": "new_laptop",
            "model": "executive",
            "cost": 2400.5,
            "justification": "Board member",
            "deliver_to": "carol",
        },
        "approvals_required": ["financial", "manager"],
        "approvals": [
            {
                "kind": "financial",
                "approver": "dave",
                "approved": True,
                "comment": "ok",
                "at": "2025-03-03T10:00:00Z",
            }
        ],
        "pending_approval": "manager",
        "approval_due_at": "2025-03-04T09:00:00Z",
        "completed_steps": [],
        "error": None,
        "rejection_reason": None,
        "flow_run_id": FLOW_RUN_ID,
        "created_at": "2025-03-03T09:00:00Z",
        "updated_at": "2025-03-03T09:00:00Z",
        "due_at": "2025-03-08T09:00:00Z",
        "fulfilled_at": None,
        "closed_at": None,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=closed", ["REQ-000003"]),
        ("state=submitted", ["REQ-000002"]),
        ("state=rejected", []),
        ("type=vpn_access", ["REQ-000002"]),
        ("type=shared_mailbox", []),
        ("requester=alice", ["REQ-000003", "REQ-000001"]),
        ("requester=alice&type=new_laptop", ["REQ-000001"]),
        ("requester=nobody", []),
        ("limit=1", ["REQ-000003"]),
        ("limit=2&offset=1", ["REQ-000002", "REQ-000001"]),
        ("offset=3", []),
    ],
)
def test_list_filters(client: TestClient, query: str, expected: list[str]) -> None:
    assert _numbers(client.get(f"/api/v1/requests?{query}", headers=AUTH)) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=bogus", "state"),
        ("type=pony", "type"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("requester=" + "x" * 201, "requester"),
    ],
)
def test_bad_filter_is_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/requests?{query}", headers=AUTH)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def test_get_one_with_its_history(client: TestClient) -> None:
    response = client.get("/api/v1/requests/REQ-000003", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["request"]["state"] == "closed"
    assert body["request"]["completed_steps"] == ["reset_password"]
    assert body["request"]["pending_approval"] is None
    assert [(entry["action"], entry["actor"], entry["to_state"]) for entry in body["audit"]] == [
        ("submit", "alice", "submitted")
    ]


def test_unknown_request_is_404_and_malformed_number_422(client: TestClient) -> None:
    missing = client.get("/api/v1/requests/REQ-999999", headers=AUTH)
    assert (missing.status_code, missing.json()) == (404, {"detail": "no request REQ-999999"})
    malformed = client.get("/api/v1/requests/INC-000001", headers=AUTH)
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["path", "number"]


def test_catalogue_lists_every_item(client: TestClient) -> None:
    items = client.get("/api/v1/catalogue", headers=AUTH).json()["items"]
    assert [item["type"] for item in items] == [item.type for item in catalogue()]
    laptop = {k: v for k, v in items[0].items() if k not in ("fields_schema", "example")}
    assert laptop == {
        "type": "new_laptop",
        "title": "New laptop",
        "description": "A laptop from the standard range, ordered and handed over.",
        "approvals": ["manager", "financial"],
        "financial_threshold": "1500",
        "fulfilment": ["order_hardware", "hand_over_hardware"],
        "target": "P5D",
    }


def test_over_a_real_socket(app: FastAPI) -> None:
    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/api/v1/requests").status_code == 401
        assert _numbers(http.get("/api/v1/requests?requester=bob", headers=AUTH)) == ["REQ-000002"]
        one = http.get("/api/v1/requests/REQ-000001", headers=AUTH).json()
        assert one["request"]["pending_approval"] == "manager"
        assert len(http.get("/api/v1/catalogue", headers=AUTH).json()["items"]) == 7
        assert http.get("/api/v1/requests?type=pony", headers=AUTH).status_code == 422
