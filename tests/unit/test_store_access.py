"""IdentityRepository and SqlProvisioner on SQLite and PostgreSQL: identities upserted and
read back, grants idempotent (also when they race), revoked and flagged once, and listed."""

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import Grant, Identity, IdentityStatus, Provisioner
from serviceops.store.base import RecordNotFound
from serviceops.store.db import normalise_url
from serviceops.store.request import IdentityRepository, SqlProvisioner
from serviceops.store.request.tables import GrantRecord

Sessions = sessionmaker[Session]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


# --------------------------------------------------------------------------- identities


def test_identities_are_inserted_replaced_and_listed(sessions: Sessions) -> None:
    alice = Identity(user="alice", manager="bob", groups=["finance", "staff"])
    carol = Identity(user="carol", status=IdentityStatus.LEAVER)
    with sessions.begin() as session:
        repository = IdentityRepository(session)
        assert repository.get("alice") is None
        assert repository.upsert(alice) == alice
        assert repository.upsert(carol) == carol

    moved = alice.model_copy(
        update={"status": IdentityStatus.MOVER, "manager": None, "groups": ["sales"]}
    )
    with sessions.begin() as session:
        repository = IdentityRepository(session)
        assert repository.get("alice") == alice
        assert repository.upsert(moved) == moved
        # The row this session loaded above is refreshed, not served stale.
        assert repository.get("alice") == moved

    with sessions.begin() as session:
        repository = IdentityRepository(session)
        assert repository.get("alice") == moved
        assert repository.all() == {"alice": moved, "carol": carol}
        assert list(repository.all()) == ["alice", "carol"]


def test_no_identities(sessions: Sessions) -> None:
    with sessions.begin() as session:
        assert IdentityRepository(session).all() == {}


def test_people_are_found_by_slack_id_and_contacts_round_trip(sessions: Sessions) -> None:
    sam = Identity(user="sam", slack_user_id="U0SAM", email="sam@example.com", phone="+4930123456")
    with sessions.begin() as session:
        repository = IdentityRepository(session)
        assert repository.upsert(sam) == sam
        repository.upsert(Identity(user="kim"))
    with sessions.begin() as session:
        repository = IdentityRepository(session)
        assert repository.get("sam") == sam
        assert repository.by_slack_id("U0SAM") == sam
        assert repository.by_slack_id("U0NOBODY") is None
        # A chat bot names a requester by their Slack id: person() finds them either way.
        assert repository.person("U0SAM") == sam
        assert repository.person("sam") == sam
        assert repository.person("U0NOBODY") is None
        moved = repository.upsert(sam.model_copy(update={"slack_user_id": None, "phone": None}))
    with sessions.begin() as session:
        assert IdentityRepository(session).get("sam") == moved
        assert IdentityRepository(session).by_slack_id("U0SAM") is None


def test_a_slack_id_belongs_to_one_person_only(sessions: Sessions) -> None:
    with sessions.begin() as session:
        repository = IdentityRepository(session)
        repository.upsert(Identity(user="sam", slack_user_id="U0SAM"))
        repository.upsert(Identity(user="kim"))
        repository.upsert(Identity(user="lou"))  # several people without one are fine
    with pytest.raises(IntegrityError), sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="kim", slack_user_id="U0SAM"))


# --------------------------------------------------------------------------- grants


def grant(
    provisioner: Provisioner,
    user: str = "alice",
    system: str = "payroll",
    role: str = "viewer",
    *,
    expires_on: date | None = None,
    by: str = "serviceops",
    request: str | None = "REQ-000001",
    at: datetime = T0,
) -> Grant:
    return provisioner.grant(
        user=user, system=system, role=role, expires_on=expires_on, by=by, request=request, at=at
    )


def test_grant_round_trips_every_field(sessions: Sessions) -> None:
    at = datetime(2025, 3, 3, 10, 30, 15, 123456, tzinfo=PARIS)
    with sessions.begin() as session:
        granted = grant(SqlProvisioner(session), expires_on=date(2025, 12, 31), at=at)

    assert granted.user == "alice" and (granted.system, granted.role) == ("payroll", "viewer")
    assert granted.granted_at == at and granted.granted_at.tzinfo == UTC
    assert (granted.granted_by, granted.request) == ("serviceops", "REQ-000001")
    assert granted.expires_on == date(2025, 12, 31)
    assert granted.revoked_at is None and granted.flagged_at is None

    with sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        flagged = provisioner.flag(granted.id, "mover: review", T0 + timedelta(hours=1))
        revoked = provisioner.revoke(
            granted.id, by="carol", reason="REQ-000002", at=T0 + timedelta(hours=2)
        )

    with sessions.begin() as session:
        loaded = SqlProvisioner(session).get(granted.id)

    assert loaded == revoked
    assert loaded == granted.model_copy(
        update={
            "flagged_at": T0 + timedelta(hours=1),
            "flag_reason": "mover: review",
            "revoked_at": T0 + timedelta(hours=2),
            "revoked_by": "carol",
            "revoke_reason": "REQ-000002",
        }
    )
    assert flagged.flagged_at == T0 + timedelta(hours=1)
    assert flagged.revoked_at is None


def test_granting_a_held_role_returns_the_grant_that_holds_it(sessions: Sessions) -> None:
    with sessions.begin() as session:
        first = grant(SqlProvisioner(session), expires_on=date(2025, 6, 30))

    with sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        again = grant(provisioner, by="someone", request="REQ-000009", at=T0 + timedelta(days=1))
        assert again == first  # no expiry given: the grant is returned as it is
        extended = grant(provisioner, expires_on=date(2025, 12, 31), request="REQ-000010")

    assert extended == first.model_copy(update={"expires_on": date(2025, 12, 31)})
    with sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        assert provisioner.grants() == [extended]
        other_role = grant(provisioner, role="admin")
        other_user = grant(provisioner, user="bob")
        assert len({extended.id, other_role.id, other_user.id}) == 3


def test_revoke_is_idempotent_and_a_revoked_role_can_be_granted_again(
    sessions: Sessions,
) -> None:
    with sessions.begin() as session:
        first = grant(SqlProvisioner(session))

    with sessions.begin() as session:
        revoked = SqlProvisioner(session).revoke(first.id, by="carol", reason="expired", at=T0)
    with sessions.begin() as session:
        again = SqlProvisioner(session).revoke(
            first.id, by="dave", reason="leaver", at=T0 + timedelta(days=1)
        )

    assert again == revoked
    assert (again.revoked_by, again.revoke_reason, again.revoked_at) == ("carol", "expired", T0)

    with sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        second = grant(provisioner, at=T0 + timedelta(days=2))
        assert second.id != first.id
        assert second.revoked_at is None
        assert provisioner.grants(user="alice") == [second]
        assert provisioner.grants(user="alice", active_only=False) == [revoked, second]


def test_flag_is_kept_once(sessions: Sessions) -> None:
    with sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        granted = grant(provisioner)
        first = provisioner.flag(granted.id, "mover: review", T0)
        second = provisioner.flag(granted.id, "again", T0 + timedelta(days=1))

    assert first == second
    assert (second.flag_reason, second.flagged_at) == ("mover: review", T0)


def test_grants_filter_by_user_and_activity(sessions: Sessions) -> None:
    with sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        a1 = grant(provisioner, "alice", "payroll", "viewer")
        b1 = grant(provisioner, "bob", "crm", "admin")
        a2 = grant(provisioner, "alice", "mailbox:support@example.com", "send_as")
        b2 = provisioner.revoke(
            grant(provisioner, "bob", "vpn", "user").id, by="carol", reason="x", at=T0
        )

    with sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        assert provisioner.grants() == [a1, b1, a2]
        assert provisioner.grants(active_only=False) == [a1, b1, a2, b2]
        assert provisioner.grants(user="alice") == [a1, a2]
        assert provisioner.grants(user="bob") == [b1]
        assert provisioner.grants(user="bob", active_only=False) == [b1, b2]
        assert provisioner.grants(user="erin") == []


def test_unknown_grants_raise_record_not_found(sessions: Sessions) -> None:
    with sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        with pytest.raises(RecordNotFound, match="no grant 42"):
            provisioner.get(42)
        with pytest.raises(RecordNotFound, match="no grant 42"):
            provisioner.revoke(42, by="carol", reason="x", at=T0)
        with pytest.raises(RecordNotFound, match="no grant 42"):
            provisioner.flag(42, "x", T0)


def test_only_one_grant_of_a_role_can_be_active(sessions: Sessions) -> None:
    """The partial unique index, not only the code, keeps one active grant per role."""

    def row(revoked_at: datetime | None) -> GrantRecord:
        return GrantRecord(
            user="alice",
            system="payroll",
            role="viewer",
            granted_at=T0,
            granted_by="x",
            revoked_at=revoked_at,
        )

    with sessions.begin() as session:
        session.add_all([row(T0), row(T0), row(None)])
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(row(None))


def test_concurrent_grants_of_one_role_end_as_one_grant(database_url: str) -> None:
    threads = 10
    engine = create_engine(normalise_url(database_url), pool_size=threads, max_overflow=0)
    sessions = sessionmaker(engine, expire_on_commit=False)
    start = threading.Barrier(threads)
    ids: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def provide(index: int) -> None:
        try:
            with sessions.begin() as session:
                session.execute(text("SELECT 1"))
                start.wait()
                granted = grant(SqlProvisioner(session), request=f"REQ-{index:06d}")
            with lock:
                ids.append(granted.id)
        except BaseException as error:  # reported by the main thread
            with lock:
                errors.append(error)

    workers = [threading.Thread(target=provide, args=(i,)) for i in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        with sessions.begin() as session:
            held = SqlProvisioner(session).grants(active_only=False)
    finally:
        engine.dispose()

    assert errors == []
    assert len(ids) == threads
    assert len(set(ids)) == 1
    assert [g.id for g in held] == [ids[0]]


def test_sql_provisioner_is_a_provisioner(sessions: Sessions) -> None:
    with sessions.begin() as session:
        provisioner: Provisioner = SqlProvisioner(session)
        assert grant(provisioner).id == 1
