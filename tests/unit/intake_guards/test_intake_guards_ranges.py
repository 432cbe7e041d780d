"""Issue 9, defect 5: times and numbers no column holds (instants outside years 1 to 9999 in UTC
or in a database session's zone, numbers beyond a double, amounts beyond any bound) are a 422
naming the field with nothing recorded, and Alertmanager's zero end time means no end. Both
database backends."""

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.store.event import EventRepository
from tests.unit.event_intake.support import am_alert, am_payload
from tests.unit.intake_guards.support import EVENT, LAPTOP, _errors, _post, _recorded, _with_extra

# --------------------------------------------------------------------------- defect 5


EXTREMES = [
    "9999-12-31T23:59:59-23:59",  # no UTC equivalent: after the year 9999
    "0001-01-01T00:00:00+23:59",  # no UTC equivalent: before the year 1
    "9999-12-31T23:59:59Z",  # in UTC, but not in a database session east of UTC
    "0001-01-01T00:00:01Z",  # in UTC, but not in a database session west of UTC
]


@pytest.mark.parametrize("value", EXTREMES)
def test_event_time_no_database_holds_is_422_naming_occurred_at(
    client: TestClient, sessions: sessionmaker[Session], value: str
) -> None:
    single = json.dumps(EVENT | {"occurred_at": value}).encode()
    [(loc, _)] = _errors(_post(client, "events", single))
    assert loc == ["body", "occurred_at"]
    batch = json.dumps({"events": [EVENT, EVENT | {"occurred_at": value}]}).encode()
    [(loc, _)] = _errors(_post(client, "events", batch))
    assert loc == ["body", "events", 1, "occurred_at"]
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("field", ["startsAt", "endsAt"])
def test_alertmanager_time_no_database_holds_is_422_naming_it(
    client: TestClient, sessions: sessionmaker[Session], field: str, value: str
) -> None:
    alert = am_alert(status="resolved") | {field: value}
    response = _post(client, "alertmanager", json.dumps(am_payload(alert)).encode())
    assert (["body", "alerts", 0, field], "value_error") in _errors(response)
    assert _recorded(sessions) == 0


def test_alertmanagers_zero_end_time_means_no_end(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """Alertmanager sends Go's zero time, 0001-01-01T00:00:00Z, as the end of what has not
    ended: accepted as "no end", never as an instant of year 1."""
    firing, resolved = am_alert(), am_alert(status="resolved")
    resolved["endsAt"] = "0001-01-01T00:00:00Z"
    body = json.dumps(am_payload(firing, resolved)).encode()
    assert _post(client, "alertmanager", body).status_code == 202
    with sessions.begin() as session:
        stored = EventRepository(session).list()
    assert [event.details["endsAt"] for event in stored] == [None, None]
    assert {event.occurred_at for event in stored} == {
        datetime(2026, 11, 26, 8, 59, 0, 123456, tzinfo=UTC)
    }


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e309"])
@pytest.mark.parametrize("hook", ["events", "alertmanager"])
def test_number_beyond_a_double_is_422_naming_it(
    client: TestClient, sessions: sessionmaker[Session], hook: str, number: str
) -> None:
    document, loc = _with_extra(hook, "reading", "NUMBER")
    body = json.dumps(document).encode().replace(b'"NUMBER"', number.encode())
    assert _errors(_post(client, hook, body)) == [(loc, "float_overflow")]
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("number", ["1e400", "1e999999999999999999", "-1e400", "1e-400"])
def test_request_amount_beyond_any_bound_is_422_naming_it(
    client: TestClient, sessions: sessionmaker[Session], number: str
) -> None:
    body = json.dumps(LAPTOP).encode().replace(b'"1299.00"', number.encode())
    response = _post(client, "requests", body)
    if number == "1e-400":  # tiny, but a valid amount: kept exactly
        assert response.status_code == 202, response.text
        return
    [(loc, _)] = _errors(response)
    assert loc == ["body", "details", "cost"]
    assert _recorded(sessions) == 0
