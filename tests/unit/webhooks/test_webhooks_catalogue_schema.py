"""A portal builds its forms from `GET /api/v1/catalogue`: for every item, a submission built
from nothing but the published JSON Schema is accepted by the webhook and recorded as sent,
and so is the item's published example. Both database backends."""

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request.catalogue import TYPE_NAMES
from tests.unit.gateway_support import AUTH
from tests.unit.webhooks.support import _post, _requests

FIRST_OF_NEXT_YEAR = date(date.today().year + 1, 1, 1).isoformat()


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.removeprefix("#/$defs/")
    return root["$defs"][name] | {k: v for k, v in schema.items() if k != "$ref"}


def value_for(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """What a form built from the schema would send for a field a person filled in: the
    constant, the first choice, a date, a number inside its bounds, a text of legal length."""
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][-1]
    if "anyOf" in schema:  # an optional field: fill in the type that is not null
        present = [option for option in schema["anyOf"] if option.get("type") != "null"]
        return value_for(present[0], root)
    match schema.get("type"):
        case "number" | "integer":
            return (schema.get("minimum", 0) + schema.get("maximum", 100)) // 2
        case "boolean":
            return True
        case "string" if schema.get("format") == "date":
            return FIRST_OF_NEXT_YEAR
        case "string":
            return "x" * max(schema.get("minLength", 1), 3)
    raise AssertionError(f"the form builder does not know {schema}")


def details_from(schema: dict[str, Any]) -> dict[str, Any]:
    """Every field filled in, optional ones too."""
    return {name: value_for(field, schema) for name, field in schema["properties"].items()}


def _catalogue(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/catalogue", headers=AUTH)
    assert response.status_code == 200
    return {item["type"]: item for item in response.json()["items"]}


def test_every_item_publishes_its_fields_and_an_example(client: TestClient) -> None:
    items = _catalogue(client)
    assert list(items) == list(TYPE_NAMES)
    for name, item in items.items():
        schema = item["fields_schema"]
        assert schema["type"] == "object" and schema["properties"]["type"]["const"] == name
        assert set(schema["required"]) <= set(schema["properties"]), name
        assert set(item["example"]) <= set(schema["properties"]), name
        for field in schema["properties"].values():
            assert field["title"] and field["description"], (name, field)


def test_amounts_are_published_as_numbers(client: TestClient) -> None:
    """A form shows a number input for a cost, not a choice between number and text."""
    fields = _catalogue(client)["new_laptop"]["fields_schema"]["properties"]
    assert fields["cost"]["type"] == "number" and fields["cost"]["minimum"] == 0


@pytest.mark.parametrize("source", ["schema", "example"])
def test_a_submission_built_from_the_catalogue_is_accepted(
    client: TestClient, sessions: sessionmaker[Session], source: str
) -> None:
    items = _catalogue(client)
    sent: dict[str, dict[str, Any]] = {}
    for name, item in items.items():
        details = details_from(item["fields_schema"]) if source == "schema" else item["example"]
        body = {"requester": "portal-user", "details": details, "id": f"{source}-{name}"}
        response = _post(client, json.dumps(body).encode())
        assert response.status_code == 202, (name, response.text)
        sent[response.json()["number"]] = details
    recorded = {request.number: request for request in _requests(sessions)}
    assert set(recorded) == set(sent)
    for number, details in sent.items():
        stored = recorded[number].details.model_dump(mode="json")
        assert {key: stored[key] for key in details} == details, number
