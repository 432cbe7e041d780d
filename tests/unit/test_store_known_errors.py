"""KnownErrorRepository on SQLite and PostgreSQL: the store numbers known errors, and
initial diagnosis gets the active ones for the incident's service or for any service."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.problem import KnownError
from serviceops.store.repositories import KnownErrorRepository, RecordNotFound

Sessions = sessionmaker[Session]


def known_error(title: str, service: str | None = None, **changes: object) -> KnownError:
    values: dict[str, object] = {
        "number": "KE-999999",  # whatever the caller sends, the store numbers it
        "title": title,
        "service": service,
        "workaround": f"workaround for {title}",
    }
    values.update(changes)
    return KnownError.model_validate(values)


def add(sessions: Sessions, item: KnownError) -> KnownError:
    with sessions.begin() as session:
        return KnownErrorRepository(session).add(item)


def test_add_numbers_in_sequence_and_get_round_trips(sessions: Sessions) -> None:
    full = known_error(
        "MTU mismatch on the VPN concentrator",
        "vpn",
        category="network/vpn",
        symptom="tunnel drops after a few minutes",
        root_cause="MTU 1500 over PPPoE",
    )
    first = add(sessions, full)
    second = add(sessions, known_error("Printer queue stuck"))

    assert [first.number, second.number] == ["KE-000001", "KE-000002"]
    assert first == full.model_copy(update={"number": "KE-000001"})
    with sessions.begin() as session:
        assert KnownErrorRepository(session).get("KE-000001") == first
        assert KnownErrorRepository(session).get("KE-000002").service is None


def test_get_unknown_raises_record_not_found(sessions: Sessions) -> None:
    with sessions.begin() as session, pytest.raises(RecordNotFound) as raised:
        KnownErrorRepository(session).get("KE-000099")
    assert str(raised.value) == "no known error KE-000099"


def test_candidates_are_active_for_the_service_or_for_any(sessions: Sessions) -> None:
    vpn = add(sessions, known_error("VPN MTU", "vpn"))
    mail = add(sessions, known_error("Mail quota", "mail"))
    anywhere = add(sessions, known_error("Expired password", None))
    retired = add(sessions, known_error("Old VPN client", "vpn"))
    with sessions.begin() as session:
        session.execute(
            text("UPDATE known_errors SET active = :active WHERE number = :number"),
            {"active": False, "number": retired.number},
        )

    with sessions.begin() as session:
        repository = KnownErrorRepository(session)
        assert repository.candidates("vpn") == [vpn, anywhere]
        assert repository.candidates("mail") == [mail, anywhere]
        assert repository.candidates("printing") == [anywhere]
