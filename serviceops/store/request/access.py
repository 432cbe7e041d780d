"""Identities and access grants: the directory serviceops knows, and a Provisioner over a SQL
table of grants. The caller owns the session and its transaction, as everywhere in the store.
"""

from datetime import date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from serviceops.domain.request import Grant, Identity, IdentityStatus
from serviceops.store.base import RecordNotFound
from serviceops.store.db import dialect_insert
from serviceops.store.request.tables import GrantRecord, IdentityRecord

# --------------------------------------------------------------------------- identities


def _identity_from_row(row: IdentityRecord) -> Identity:
    return Identity(
        user=row.user,
        status=IdentityStatus(row.status),
        manager=row.manager,
        groups=list(row.groups),
        slack_user_id=row.slack_user_id,
        email=row.email,
        phone=row.phone,
    )


class IdentityRepository:
    """People by user name, as the last directory sync (or an operator) recorded them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user: str) -> Identity | None:
        return self._one(IdentityRecord.user == user)

    def by_slack_id(self, slack_user_id: str) -> Identity | None:
        """Who a Slack user id belongs to: a button press says only that."""
        return self._one(IdentityRecord.slack_user_id == slack_user_id)

    def person(self, name: str) -> Identity | None:
        """The person a request names: by user name, else by Slack user id (a chat bot files
        requests under the requester's Slack id)."""
        return self.get(name) or self.by_slack_id(name)

    def _one(self, condition: ColumnElement[bool]) -> Identity | None:
        row = self.session.scalars(select(IdentityRecord).where(condition)).one_or_none()
        return None if row is None else _identity_from_row(row)

    def upsert(self, identity: Identity) -> Identity:
        """Insert or replace in one statement (INSERT .. ON CONFLICT DO UPDATE), so two
        concurrent syncs of a new person cannot collide on the primary key."""
        insert = dialect_insert(self.session)
        statement = insert(IdentityRecord).values(
            user=identity.user,
            status=IdentityStatus(identity.status).value,
            manager=identity.manager,
            groups=list(identity.groups),
            slack_user_id=identity.slack_user_id,
            email=identity.email,
            phone=identity.phone,
        )
        replaced = ("status", "manager", "groups", "slack_user_id", "email", "phone")
        statement = statement.on_conflict_do_update(
            index_elements=["user"],
            set_={column: statement.excluded[column] for column in replaced},
        ).returning(IdentityRecord)
        # populate_existing: a row this session loaded before is refreshed, not left stale.
        row = self.session.scalars(statement, execution_options={"populate_existing": True}).one()
        return _identity_from_row(row)

    def all(self) -> dict[str, Identity]:
        """Every identity by user name (the access review looks each grant's holder up)."""
        rows = self.session.scalars(select(IdentityRecord).order_by(IdentityRecord.user)).all()
        return {row.user: _identity_from_row(row) for row in rows}


# --------------------------------------------------------------------------- grants


def _grant_from_row(row: GrantRecord) -> Grant:
    return Grant(
        id=row.id,
        user=row.user,
        system=row.system,
        role=row.role,
        granted_at=row.granted_at,
        granted_by=row.granted_by,
        request=row.request,
        expires_on=row.expires_on,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        revoke_reason=row.revoke_reason,
        flagged_at=row.flagged_at,
        flag_reason=row.flag_reason,
    )


class SqlProvisioner:
    """serviceops.domain.request.access.Provisioner over the access_grants table.

    Grants are revoked, never deleted, so the table is the history of who held what. At most
    one grant per user, system and role is active (a partial unique index): granting a held
    role returns the grant that holds it, also when two grants race.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def grant(
        self,
        *,
        user: str,
        system: str,
        role: str,
        expires_on: date | None,
        by: str,
        request: str | None,
        at: datetime,
    ) -> Grant:
        """The active grant of that role, created if there is none. An existing grant is
        returned as it is, except that a given `expires_on` replaces its expiry."""
        row = self._active(user, system, role)
        if row is None:
            insert = dialect_insert(self.session)
            statement = (
                insert(GrantRecord)
                .values(
                    user=user,
                    system=system,
                    role=role,
                    granted_at=at,
                    granted_by=by,
                    request=request,
                    expires_on=expires_on,
                )
                .on_conflict_do_nothing(
                    index_elements=["user", "system", "role"],
                    index_where=GrantRecord.revoked_at.is_(None),
                )
                .returning(GrantRecord)
            )
            created = self.session.scalars(statement).one_or_none()
            if created is not None:
                return _grant_from_row(created)
            # A concurrent grant committed first (PostgreSQL made this INSERT wait for it).
            row = self._active(user, system, role)
            if row is None:
                raise RuntimeError(f"grant of {system}/{role} to {user} conflicted but is gone")
        if expires_on is not None and row.expires_on != expires_on:
            row.expires_on = expires_on
            self.session.flush()
        return _grant_from_row(row)

    def revoke(self, grant_id: int, *, by: str, reason: str, at: datetime) -> Grant:
        """Revoke once: a revoked grant is returned unchanged (who revoked it first stays)."""
        row = self._row(grant_id, for_update=True)
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by, row.revoke_reason = at, by, reason
            self.session.flush()
        return _grant_from_row(row)

    def flag(self, grant_id: int, reason: str, at: datetime) -> Grant:
        """Mark a grant for review (a mover's rights) once: a flagged grant stays as it is."""
        row = self._row(grant_id, for_update=True)
        if row.flagged_at is None:
            row.flagged_at, row.flag_reason = at, reason
            self.session.flush()
        return _grant_from_row(row)

    def get(self, grant_id: int) -> Grant:
        return _grant_from_row(self._row(grant_id))

    def grants(self, *, user: str | None = None, active_only: bool = True) -> list[Grant]:
        """Grants in the order they were made; `active_only` leaves out revoked ones."""
        statement = select(GrantRecord).order_by(GrantRecord.id)
        if user is not None:
            statement = statement.where(GrantRecord.user == user)
        if active_only:
            statement = statement.where(GrantRecord.revoked_at.is_(None))
        return [_grant_from_row(row) for row in self.session.scalars(statement)]

    def _active(self, user: str, system: str, role: str) -> GrantRecord | None:
        """The active grant, locked and read afresh (it may have changed since this session
        last saw it)."""
        statement = (
            select(GrantRecord)
            .where(
                GrantRecord.user == user,
                GrantRecord.system == system,
                GrantRecord.role == role,
                GrantRecord.revoked_at.is_(None),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(statement).one_or_none()

    def _row(self, grant_id: int, *, for_update: bool = False) -> GrantRecord:
        statement = select(GrantRecord).where(GrantRecord.id == grant_id)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        row = self.session.scalars(statement).one_or_none()
        if row is None:
            raise RecordNotFound("grant", str(grant_id))
        return row
