"""KnownErrorRepository on SQLite and PostgreSQL: the store numbers known errors, and
initial diagnosis gets the active ones for the incident's service, for any service, or naming
the incident's CI; the KEDB can be searched, listed, and its entries retired."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.problem import KnownError
from serviceops.store.base import RecordNotFound
from serviceops.store.db import make_engine, migrate
from serviceops.store.problem import KnownErrorRepository

Sessions = sessionmaker[Session]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


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
        ci="vpn-gw-2",
        affected_cis=["vpn-gw-3", "fw-1"],
        problem_number="PRB-000004",
        created_at=T0,
    )
    first = add(sessions, full)
    second = add(sessions, known_error("Printer queue stuck"))

    assert [first.number, second.number] == ["KE-000001", "KE-000002"]
    assert first == full.model_copy(update={"number": "KE-000001"})
    with sessions.begin() as session:
        assert KnownErrorRepository(session).get("KE-000001") == first
        plain = KnownErrorRepository(session).get("KE-000002")
    assert (plain.service, plain.ci, plain.affected_cis, plain.problem_number) == (
        None,
        None,
        [],
        None,
    )
    assert plain.created_at is not None and plain.created_at.tzinfo is not None


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


def numbers(found: list[KnownError]) -> list[str]:
    return [k.number for k in found]


def test_candidates_include_known_errors_naming_the_incident_ci(sessions: Sessions) -> None:
    own = add(sessions, known_error("ERP batch", "erp"))
    at_fault = add(sessions, known_error("DB host", "dba", ci="db-1"))
    affected = add(sessions, known_error("SAN latency", "storage", affected_cis=["x", "db-1"]))
    # near misses: longer names, another case (SQLite's LIKE ignores it), LIKE wildcards
    add(sessions, known_error("Near", "storage", affected_cis=["db-10", "mydb-1", "DB-1"]))
    wildcards = add(sessions, known_error("Wildcards", "storage", affected_cis=["db_1", "db%"]))
    add(sessions, known_error("Other CI", "dba", ci="db-2"))

    with sessions.begin() as session:
        repository = KnownErrorRepository(session)
        assert numbers(repository.candidates("erp", "db-1")) == [
            own.number,
            at_fault.number,
            affected.number,
        ]
        assert numbers(repository.candidates("erp")) == [own.number]
        assert numbers(repository.candidates("erp", "db-3")) == [own.number]
        # a CI with LIKE wildcards in its name matches only itself
        assert numbers(repository.candidates("erp", "db_1")) == [own.number, wildcards.number]
        assert numbers(repository.candidates("erp", "db%")) == [own.number, wildcards.number]


def test_candidates_by_category_keep_unset_and_prefixes_on_level_boundaries(
    sessions: Sessions,
) -> None:
    anywhere = add(sessions, known_error("any category", "vpn"))
    top = add(sessions, known_error("network", "vpn", category="network"))
    exact = add(sessions, known_error("vpn", "vpn", category="network/vpn"))
    add(sessions, known_error("deeper", "vpn", category="network/vpn/client"))
    add(sessions, known_error("networking", "vpn", category="networking"))
    add(sessions, known_error("hardware", "vpn", category="hardware"))
    with sessions.begin() as session:
        repository = KnownErrorRepository(session)
        found = repository.candidates("vpn", category=" Network/VPN ")
        assert numbers(found) == [anywhere.number, top.number, exact.number]
        assert len(repository.candidates("vpn")) == 6


def test_candidates_match_ci_names_with_quotes_and_accents(sessions: Sessions) -> None:
    odd = add(sessions, known_error("Odd", "x", affected_cis=['rack "A"', "réseau-1", "c:\\d"]))
    with sessions.begin() as session:
        repository = KnownErrorRepository(session)
        for ci in ('rack "A"', "réseau-1", "c:\\d"):
            assert numbers(repository.candidates("erp", ci)) == [odd.number], ci
        assert repository.candidates("erp", "rack") == []


def test_search_ranks_by_words_in_common_then_newest(sessions: Sessions) -> None:
    vpn = add(sessions, known_error("VPN tunnel drops", symptom="tunnel drops after sleep"))
    mtu = add(sessions, known_error("MTU mismatch", symptom="VPN tunnel drops for Lyon"))
    add(sessions, known_error("Printer offline", symptom="print queue stuck"))
    accent = add(sessions, known_error("Réseau coupé", symptom="ÉCHEC de connexion"))
    retired = add(sessions, known_error("Old VPN client drops tunnel", symptom="vpn tunnel"))
    with sessions.begin() as session:
        KnownErrorRepository(session).deactivate(retired.number)

    with sessions.begin() as session:
        repository = KnownErrorRepository(session)
        assert numbers(repository.search("vpn tunnel drops in Lyon")) == [mtu.number, vpn.number]
        assert numbers(repository.search("tunnel")) == [mtu.number, vpn.number]  # newest first
        assert numbers(repository.search("tunnel", limit=1)) == [mtu.number]
        assert numbers(repository.search("échec réseau")) == [accent.number]
        assert repository.search("unrelated words") == []
        assert repository.search("a to") == []  # no word of three letters


def test_list_deactivate_and_set_workaround(sessions: Sessions) -> None:
    first = add(sessions, known_error("one"))
    second = add(sessions, known_error("two"))
    third = add(sessions, known_error("three"))
    with sessions.begin() as session:
        repository = KnownErrorRepository(session)
        retired = repository.deactivate(second.number)
        assert retired == second
        repository.deactivate(second.number)  # again: nothing changes
        assert not repository.is_active(second.number)
        updated = repository.set_workaround(first.number, "reboot twice")
        assert updated.workaround == "reboot twice"

    with sessions.begin() as session:
        repository = KnownErrorRepository(session)
        assert numbers(repository.list()) == [third.number, first.number]
        assert numbers(repository.list(active=False)) == [second.number]
        assert numbers(repository.list(active=None, limit=2, offset=1)) == [
            second.number,
            first.number,
        ]
        assert repository.get(first.number).workaround == "reboot twice"
        assert repository.candidates("any") == [repository.get(first.number), third]
        with pytest.raises(RecordNotFound):
            repository.deactivate("KE-000099")
        with pytest.raises(RecordNotFound):
            repository.set_workaround("KE-000099", "x")


def test_known_errors_from_before_the_migration_get_an_empty_ci_list(
    empty_database_url: str,
) -> None:
    migrate(empty_database_url, "0004")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO known_errors (number, title, service, symptom, root_cause,"
                    " workaround, active, created_at) VALUES ('KE-000001', 'Old', 'vpn', 's',"
                    " 'r', 'w', :active, :at)"
                ),
                {"active": True, "at": T0},
            )
        migrate(empty_database_url)
        with Session(engine) as session:
            old = KnownErrorRepository(session).get("KE-000001")
            assert (old.ci, old.affected_cis, old.problem_number) == (None, [], None)
            assert KnownErrorRepository(session).candidates("vpn", "db-1") == [old]
    finally:
        engine.dispose()
