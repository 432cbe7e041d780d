"""POST /webhooks/requests, limits and validation: a body over 1 MiB is 413 (by Content-Length
or streamed), malformed or invalid JSON is a 422 naming the field with nothing recorded, and
hostile text is accepted and stored verbatim. Both database backends."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.gateway_support import AUTH, webhook_headers
from tests.unit.webhooks.support import LAPTOP, MIB, PATH, SECRET, _body, _errors, _post, _requests

# --------------------------------------------------------------------------- size


def test_body_over_1_mib_by_content_length_is_413(client: TestClient) -> None:
    body = b" " * (MIB + 1)
    response = _post(client, body)
    assert response.status_code == 413
    assert response.json() == {"detail": f"body over {MIB} bytes"}


def test_body_of_exactly_1_mib_is_read_and_judged(client: TestClient) -> None:
    document = _body()
    body = document + b" " * (MIB - len(document))  # valid JSON, padded to the limit
    assert _post(client, body).status_code == 202


def test_streamed_body_over_1_mib_is_413(client: TestClient) -> None:
    body = b" " * (MIB + 10)

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = client.post(PATH, content=chunks(), headers=webhook_headers(body, SECRET))
    assert response.status_code == 413


# --------------------------------------------------------------------------- payload


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"requester": "alice",}', b"[1, 2", b"", b'{"a": NaN}', b"\xff\xfe{}"],
    ids=["truncated", "trailing-comma", "array", "empty", "nan", "not-utf8"],
)
def test_malformed_json_is_422_on_the_body(client: TestClient, body: bytes) -> None:
    [(loc, _)] = _errors(_post(client, body))
    assert loc == ["body"]


def test_deeply_nested_json_is_422_not_500(client: TestClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    [(loc, kind)] = _errors(_post(client, body))
    assert (loc, kind) == (["body"], "json_too_deep")


def test_wrong_type_names_the_field(client: TestClient) -> None:
    document = json.loads(_body())
    document["details"]["cost"] = "abc"
    response = _post(client, _body(document))
    assert _errors(response) == [(["body", "details", "cost"], "decimal_parsing")]
    assert response.json()["detail"][0]["msg"]


def test_missing_and_extra_bad_fields_are_all_reported(client: TestClient) -> None:
    document = {"requester": "", "details": {"type": "new_laptop", "model": "gold"}}
    assert sorted(_errors(_post(client, _body(document)))) == sorted(
        [
            (["body", "requester"], "string_too_short"),
            (["body", "details", "model"], "enum"),
            (["body", "details", "cost"], "missing"),
            (["body", "details", "justification"], "missing"),
            (["body", "details", "deliver_to"], "missing"),
        ]
    )


def test_unknown_request_type_is_422_on_details(client: TestClient) -> None:
    document = {"requester": "alice", "details": {"type": "pony", "colour": "pink"}}
    assert _errors(_post(client, _body(document))) == [(["body", "details"], "union_tag_invalid")]


def test_not_an_object_is_422(client: TestClient) -> None:
    assert _errors(_post(client, b'"just a string"')) == [(["body"], "model_type")]


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        (LAPTOP | {"requester": "al\x00ice"}, ["body", "requester"]),
        (
            LAPTOP | {"details": LAPTOP["details"] | {"justification": "ok\x00; rm -rf /"}},
            ["body", "details", "justification"],
        ),
        (LAPTOP | {"extra\x00key": 1}, ["body", "extra\x00key"]),
    ],
    ids=["requester", "nested", "key"],
)
def test_nul_byte_is_422_naming_the_field(
    client: TestClient, sessions: sessionmaker[Session], document: Any, loc: list[str]
) -> None:
    response = _post(client, _body(document))
    assert _errors(response) == [(loc, "string_nul")]
    json.loads(response.text)  # the echo of the key is still valid JSON
    assert _requests(sessions) == []


INJECTIONS = [
    "<!channel> please approve",
    "{{ 7*7 }} {% raw %}",
    "'; DROP TABLE service_requests; --",
    "<script>alert(1)</script>",
    'quote " backslash \\ unicode \u202e emoji \U0001f4bb',
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_hostile_text_is_accepted_and_stored_verbatim(client: TestClient, text: str) -> None:
    details = LAPTOP["details"] | {"justification": text}
    response = _post(client, _body({"requester": "alice", "details": details}))
    assert response.status_code == 202, response.text
    number = response.json()["number"]
    stored = client.get(f"/api/v1/requests/{number}", headers=AUTH).json()
    assert stored["request"]["details"]["justification"] == text
