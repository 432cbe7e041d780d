"""Issue 9, defect 4, on all three webhooks: what would break later reads is refused at the door
as a 422 naming where (lone surrogates in values and keys, NUL in many strings, nesting past
the limit or past the JSON parser's), with a short answer and nothing recorded; a surrogate pair
is one character and accepted. Both database backends."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.gateway import payload
from tests.unit.event_intake.support import am_alert, am_payload
from tests.unit.intake_guards.support import (
    EVENT,
    HOOKS,
    LAPTOP,
    _errors,
    _post,
    _recorded,
    _with_extra,
)


def _with_value(hook: str, value: Any) -> tuple[dict[str, Any], list[Any]]:
    """A valid delivery of `hook` with `value` in one of its stored text fields, and the loc
    naming that field."""
    if hook == "requests":
        details = LAPTOP["details"] | {"justification": value}
        return LAPTOP | {"details": details}, ["body", "details", "justification"]
    if hook == "events":
        return EVENT | {"details": {"note": value}}, ["body", "details", "note"]
    alert = am_alert()
    alert["annotations"]["summary"] = value
    return am_payload(alert), ["body", "alerts", 0, "annotations", "summary"]


def _nested(levels: int) -> dict[str, Any]:
    """`levels` objects inside one another, built without recursion."""
    inner: dict[str, Any] = {}
    for _ in range(levels - 1):
        inner = {"a": inner}
    return inner


def _with_nested(hook: str, levels: int) -> tuple[bytes, list[Any]]:
    """A delivery with `levels` objects nested in an extra member, written without recursion
    (json.dumps of hundreds of levels fails in the test before the gateway sees it)."""
    document, loc = _with_extra(hook, "extra", "NESTED")
    nested = b'{"a":' * (levels - 1) + b"{}" + b"}" * (levels - 1)
    return json.dumps(document).encode().replace(b'"NESTED"', nested), loc


# --------------------------------------------------------------------------- defect 4


@pytest.mark.parametrize("hook", HOOKS)
def test_lone_surrogate_in_a_value_is_422_naming_the_field(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    document, loc = _with_value(hook, "half a pair \ud800 here")
    body = json.dumps(document).encode()  # the JSON escape "\ud800": valid JSON, not Unicode
    assert b"\\ud800" in body
    assert _errors(_post(client, hook, body)) == [(loc, "string_unicode")]
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("hook", HOOKS)
def test_a_body_of_many_bad_strings_gets_a_short_answer(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    document, _ = _with_value(hook, ["bad \x00"] * (payload.MAX_ERRORS * 20))
    errors = _errors(_post(client, hook, json.dumps(document).encode()))
    assert len(errors) == payload.MAX_ERRORS and {kind for _, kind in errors} == {"string_nul"}
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("hook", HOOKS)
def test_lone_surrogate_in_a_key_is_422_and_the_answer_is_valid_utf8(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    document, loc = _with_extra(hook, "bad\udfffkey", 1 if hook != "alertmanager" else "x")
    response = _post(client, hook, json.dumps(document).encode())
    response.content.decode("utf-8")  # the loc echoes the key escaped, never the surrogate
    assert _errors(response) == [([*loc[:-1], "bad\\udfffkey"], "string_unicode")]
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("hook", HOOKS)
def test_a_surrogate_pair_is_one_character_and_accepted(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    document, _ = _with_value(hook, "laptop \U0001f4bb")
    body = json.dumps(document).encode()
    assert b"\\ud83d\\udcbb" in body  # escaped as the pair a JSON encoder writes
    assert _post(client, hook, body).status_code == 202
    assert _recorded(sessions) == 1


@pytest.mark.parametrize("levels", [300, 999])
@pytest.mark.parametrize("hook", HOOKS)
def test_deeply_nested_body_is_422_naming_where(
    client: TestClient, sessions: sessionmaker[Session], hook: str, levels: int
) -> None:
    """Named where the levels pass the limit; or, on a stack so deep already that the JSON
    parser gave up before the limit could be measured, on the body."""
    body, loc = _with_nested(hook, levels)
    [(error_loc, kind)] = _errors(_post(client, hook, body))
    assert kind == "json_too_deep"
    precise = error_loc[: len(loc)] == loc and set(error_loc[len(loc) :]) == {"a"}
    assert precise or (levels > 900 and error_loc == ["body"])
    assert _recorded(sessions) == 0


def test_nesting_up_to_the_limit_is_accepted_and_one_more_is_not(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """The body is level 1 and `details` level 2: the limit counts every level."""
    at_limit = json.dumps(EVENT | {"details": _nested(payload.MAX_DEPTH - 1)}).encode()
    assert _post(client, "events", at_limit).status_code == 202
    over = json.dumps(EVENT | {"details": _nested(payload.MAX_DEPTH)}).encode()
    [(loc, kind)] = _errors(_post(client, "events", over))
    assert (loc, kind) == (["body", "details", *["a"] * (payload.MAX_DEPTH - 1)], "json_too_deep")
    assert _recorded(sessions) == 1


@pytest.mark.parametrize("hook", HOOKS)
def test_json_too_deep_for_the_parser_is_422_on_the_body(client: TestClient, hook: str) -> None:
    body = b'{"a":' * 20_000 + b"1" + b"}" * 20_000
    assert _errors(_post(client, hook, body)) == [(["body"], "json_too_deep")]
