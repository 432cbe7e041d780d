"""Lone surrogates in incidents and requests, on SQLite and PostgreSQL: unlike an event's
free-form details (tests/unit/bad_rows.py), their text cannot be stored with one, so no read
of them can meet one. The models refuse such text, and the store refuses it too when a model
is built around validation: nothing is stored."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.incident import IncidentDraft
from serviceops.domain.request import PasswordReset, RequestSubmission
from serviceops.store.incident import IncidentRepository
from serviceops.store.request import RequestRepository

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
BAD = "VPN \ud800 down"


def _draft(**fields: object) -> IncidentDraft:
    values: dict[str, object] = {
        "title": "VPN down",
        "description": "",
        "service": "vpn",
        "category": "network/vpn",
        "impact": "high",
        "urgency": "high",
        "reporter": "bob",
    }
    return IncidentDraft.model_validate(values | fields)


@pytest.mark.parametrize("field", ["title", "description"])
def test_an_incident_with_a_lone_surrogate_is_never_stored(
    sessions: sessionmaker[Session], field: str
) -> None:
    with pytest.raises(ValidationError):
        _draft(**{field: BAD})
    around_validation = _draft().model_copy(update={field: BAD})
    with pytest.raises(UnicodeEncodeError), sessions.begin() as session:
        IncidentRepository(session).add(around_validation, T0)
    with sessions.begin() as session:
        assert IncidentRepository(session).list() == []


def test_a_request_with_a_lone_surrogate_is_never_stored(sessions: sessionmaker[Session]) -> None:
    """A request's free text is in its details (JSON, which could hold the escape): the
    store reads back what it wrote, through the model, inside the same transaction."""
    with pytest.raises(ValidationError):
        PasswordReset(account=BAD)
    submission = RequestSubmission(requester="alice", details=PasswordReset(account="alice"))
    around_validation = submission.model_copy(
        update={"details": submission.details.model_copy(update={"account": BAD})}
    )
    with pytest.raises(ValidationError), sessions.begin() as session:
        RequestRepository(session).add(around_validation, source="portal", at=T0)
    with sessions.begin() as session:
        assert RequestRepository(session).list() == []
