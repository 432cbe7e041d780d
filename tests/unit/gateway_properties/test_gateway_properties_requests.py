"""Issue 9, POST /webhooks/requests under generated input: whatever a correctly signed portal
posts, the gateway never answers 5xx, and the request it accepted reads back through the read
API and the CLI.

Submissions are mostly the real shape, each catalogue item's form fields drawn by their type (so
new items are covered) with hostile values in them, and now and then arbitrary JSON; values come
from tests.unit.fuzz_strategy_support. The tables are emptied before each example (see
Gateway.forget_records).
"""

import typing
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from serviceops.domain.request import CATALOGUE_TYPES
from tests.unit.fuzz_gateway_support import FUZZ, PORTAL_SECRET, PORTAL_SOURCE
from tests.unit.fuzz_strategy_support import (
    Raw,
    dates,
    document,
    fuzzed,
    json_values,
    names,
    numbers,
    wire,
)
from tests.unit.gateway_properties.support import _KEYS, EXAMPLES, Gateway
from tests.unit.gateway_support import webhook_headers

# --------------------------------------------------------------------------- generation


def _costs() -> st.SearchStrategy[Any]:
    """Money: decimal tokens and strings of every size and exponent, and any number."""
    exact = st.decimals(allow_nan=False, allow_infinity=False)
    in_range = st.decimals(min_value=0, max_value=100_000, allow_nan=False)
    # str(Decimal) is a legal JSON number token too ("1E+5", "0E-1000"), or a string.
    return st.one_of(
        in_range.map(lambda d: Raw(str(d))),
        exact.map(lambda d: Raw(str(d))),
        exact.map(str),
        numbers(),
    )


def _field(field: FieldInfo) -> st.SearchStrategy[Any]:
    """Values for one catalogue form field, chosen by its type, so new items are covered."""
    annotation = field.annotation
    if annotation is Decimal:
        return _costs()
    if annotation is date or date in typing.get_args(annotation):
        return dates()
    if typing.get_origin(annotation) is Literal:
        return st.sampled_from(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return st.sampled_from([member.value for member in annotation])
    max_length = next((m.max_length for m in field.metadata if hasattr(m, "max_length")), 200)
    return names(max_length)


def _details() -> st.SearchStrategy[dict[str, Any]]:
    items = []
    for item in CATALOGUE_TYPES:
        fields = {name: fuzzed(_field(info)) for name, info in item.model_fields.items()}
        required = {
            name: values
            for name, values in fields.items()
            if name == "type" or item.model_fields[name].is_required()
        }
        optional = {name: values for name, values in fields.items() if name not in required}
        items.append(document(required, optional))
    return st.one_of(items)


SUBMISSIONS = document(
    {"requester": fuzzed(names(200)), "details": fuzzed(_details())},
    {"id": fuzzed(names(200))},
)


# --------------------------------------------------------------------------- the properties


@settings(FUZZ, max_examples=EXAMPLES)
@given(body=wire(fuzzed(SUBMISSIONS, one_in=4, anything=json_values())), key=st.none() | _KEYS)
def test_request_intake_never_fails_and_what_it_accepts_reads_back(
    gateway: Gateway, body: bytes, key: str | None
) -> None:
    gateway.forget_records()
    headers = webhook_headers(body, PORTAL_SECRET, source=PORTAL_SOURCE, key=key)
    response = gateway.post("/webhooks/requests", body, headers)
    if response.status_code != 202:
        return
    number = response.json()["number"]
    assert gateway.read(f"/api/v1/requests/{number}")["request"]["number"] == number
    assert [view["number"] for view in gateway.read("/api/v1/requests")["requests"]] == [number]
    assert gateway.cli_json("request", "show", number)["request"]["number"] == number
    gateway.cli("request", "show", number)
