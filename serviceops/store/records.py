"""ORM classes: one table per kind of record. They never leave serviceops.store."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the offset, so it is put back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Named constraints: Alembic can only drop or alter a constraint it can name, and SQLite's batch
# mode (table copy) needs the names to carry them over. Index names stay SQLAlchemy's default.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


class IncidentRecord(Base):
    """An incident. The (dimension, created_at) indexes serve problem management's trend
    detection: counting and linking the incidents of one service, CI or category within a
    window reads one index range instead of the service's whole history."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_service_created_at", "service", "created_at"),
        Index("ix_incidents_ci_created_at", "ci", "created_at"),
        Index("ix_incidents_category_created_at", "category", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str] = mapped_column(String(100), index=True)
    ci: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(100))
    category_corrected: Mapped[bool] = mapped_column(default=False)
    impact: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    priority: Mapped[int | None] = mapped_column(index=True)
    reporter: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    major: Mapped[bool] = mapped_column(default=False)
    support_group: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(200))
    known_error_number: Mapped[str | None] = mapped_column(String(20))
    known_error_title: Mapped[str | None] = mapped_column(String(200))
    workaround: Mapped[str | None] = mapped_column(Text)
    resolution_code: Mapped[str | None] = mapped_column(String(30))
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    pending_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    escalation_count: Mapped[int] = mapped_column(default=0)
    major_channel: Mapped[str | None] = mapped_column(String(80))
    last_status_update_at: Mapped[datetime | None]

    response_target_s: Mapped[int | None]
    response_started_at: Mapped[datetime | None]
    response_due_at: Mapped[datetime | None]
    response_warn_at: Mapped[datetime | None] = mapped_column(index=True)
    response_remaining_s: Mapped[int | None]
    response_paused_at: Mapped[datetime | None]
    response_stopped_at: Mapped[datetime | None]
    response_warning_notified_at: Mapped[datetime | None]
    response_breach_notified_at: Mapped[datetime | None]

    resolution_target_s: Mapped[int | None]
    resolution_started_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    resolution_warn_at: Mapped[datetime | None] = mapped_column(index=True)
    resolution_remaining_s: Mapped[int | None]
    resolution_paused_at: Mapped[datetime | None]
    resolution_stopped_at: Mapped[datetime | None]
    resolution_warning_notified_at: Mapped[datetime | None]
    resolution_breach_notified_at: Mapped[datetime | None]


class AuditRecord(Base):
    """Append-only trail of every state change of every record."""

    __tablename__ = "audit_trail"

    id: Mapped[int] = mapped_column(primary_key=True)
    record: Mapped[str] = mapped_column(String(20), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    flow_run_id: Mapped[str | None] = mapped_column(String(36), index=True)


class KnownErrorRecord(Base):
    """A known error. `affected_cis` is a JSON list (not indexable on both backends): the
    candidates query finds them with a text match on it, confirmed in Python."""

    __tablename__ = "known_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    service: Mapped[str | None] = mapped_column(String(100), index=True)
    ci: Mapped[str | None] = mapped_column(String(100), index=True)
    affected_cis: Mapped[list[str]] = mapped_column(JSON, default=list)
    problem_number: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(100))
    symptom: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    workaround: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class EventRecord(Base):
    """An event as it arrived (recorded in batches), then what processing made of it.

    `processed_at` is NULL until process-events has decided it: the partial index keeps the
    queue of pending events cheap to find however long the history grows.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index(
            "ix_events_pending",
            "id",
            sqlite_where=text("processed_at IS NULL"),
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(50))
    service: Mapped[str | None] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(100))
    check: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    significance: Mapped[str | None] = mapped_column(String(15))
    response: Mapped[str | None] = mapped_column(String(10))
    dropped: Mapped[bool] = mapped_column(default=False)
    duplicate: Mapped[bool] = mapped_column(default=False)
    alert_number: Mapped[str | None] = mapped_column(String(20), index=True)


class AlertRecord(Base):
    """A correlated group of events (ALR-000001): one condition on one service or CI."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    service: Mapped[str | None] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(10), index=True)
    significance: Mapped[str] = mapped_column(String(15))
    response: Mapped[str] = mapped_column(String(10))
    firing: Mapped[list[str]] = mapped_column(JSON)
    fingerprints: Mapped[list[str]] = mapped_column(JSON)
    event_count: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    notified: Mapped[int] = mapped_column(default=0)
    incident_number: Mapped[str | None] = mapped_column(String(20), index=True)
    first_event_at: Mapped[datetime]
    last_event_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)


class AlertFingerprintRecord(Base):
    """Which alert a fingerprint belongs to: later events of the condition find it by this,
    also after the correlation window (JSON lists cannot be indexed on both backends)."""

    __tablename__ = "alert_fingerprints"

    fingerprint: Mapped[str] = mapped_column(String(200), primary_key=True)
    alert_number: Mapped[str] = mapped_column(String(20), index=True)


class AlertActionRecord(Base):
    """What an alert asks for (an incident raised, resolved, reopened; a runbook run),
    recorded with the decision and done after it: a crash in between loses nothing."""

    __tablename__ = "alert_actions"
    __table_args__ = (
        Index(
            "ix_alert_actions_pending",
            "id",
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_number: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    runbook: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class ProcessingLockRecord(Base):
    """One row per serialized job: updating the row takes a lock on both backends (a row
    lock on PostgreSQL, the write lock on SQLite) so two process-events runs never correlate
    at the same time and cannot open two alerts for one condition."""

    __tablename__ = "processing_locks"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    taken_at: Mapped[datetime | None]


class NotificationRecord(Base):
    """The outbox: a Slack call recorded first and delivered after, at most once.

    `key` makes enqueueing idempotent (a retried task does not queue twice); `delivered_at` and
    `slack_ts` make delivery idempotent (a delivered row is never sent again). `slack_channel`
    is the channel id Slack answered (for conversations.create: the new channel).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "ix_notifications_undelivered",
            "id",
            sqlite_where=text("delivered_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    record: Mapped[str | None] = mapped_column(String(20), index=True)
    method: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    slack_channel: Mapped[str | None] = mapped_column(String(40))


class ServiceRequestRecord(Base):
    """A service request (REQ-000001). `details` is the catalogue item's form as JSON (the
    pydantic model dumped with mode="json"); `type` repeats its discriminator for filtering.

    (source, external_id) is unique: a portal that submits its id twice gets one request.
    Rows without an external id never collide (NULLs are distinct on both backends).
    """

    __tablename__ = "service_requests"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_service_requests_source_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    requester: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str | None] = mapped_column(String(200))
    approvals_required: Mapped[list[str]] = mapped_column(JSON)
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    approval_requested_at: Mapped[datetime | None]
    approval_due_at: Mapped[datetime | None] = mapped_column(index=True)
    approval_escalated_at: Mapped[datetime | None]
    approval_round: Mapped[int] = mapped_column(default=0)
    completed_steps: Mapped[list[str]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    due_at: Mapped[datetime]
    fulfilled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class WebhookDeliveryRecord(Base):
    """One delivery key per source, claimed once; its first answer is replayed to duplicates."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("source", "key", name="uq_webhook_deliveries_source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    status_code: Mapped[int | None]
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class IdentityRecord(Base):
    """A person as the directory knows them (HR feed, LDAP, identity provider). A Slack user
    id is one person's (a unique index; NULLs do not collide): a button press is looked up
    by it."""

    __tablename__ = "identities"

    user: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    manager: Mapped[str | None] = mapped_column(String(200))
    groups: Mapped[list[str]] = mapped_column(JSON)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(16))


class GrantRecord(Base):
    """A role on a system held by a user: rows are revoked, never deleted.

    At most one active (not revoked) grant per user, system and role: the partial unique
    index makes two concurrent grants of the same role end up as one row.
    """

    __tablename__ = "access_grants"
    __table_args__ = (
        Index("ix_access_grants_user_system_role", "user", "system", "role"),
        Index(
            "ix_access_grants_active",
            "user",
            "system",
            "role",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(String(200))
    system: Mapped[str] = mapped_column(String(250))  # "mailbox:" + a 200-character name
    role: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[str | None] = mapped_column(String(20))
    expires_on: Mapped[date | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime | None]
    flag_reason: Mapped[str | None] = mapped_column(Text)


class ConfigurationItemRecord(Base):
    """A service or configuration item as the catalogue file declares it. The name is the key:
    incidents and events refer to items by name, so a reload keeps names and replaces the rest.
    """

    __tablename__ = "configuration_items"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    owner_group: Mapped[str] = mapped_column(String(100))
    tier: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    endpoints: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    depends_on: Mapped[list[str]] = mapped_column(JSON)
    loaded_at: Mapped[datetime]


class CheckDefinitionRecord(Base):
    """A check to run: the model dumped as JSON in `definition`, its routing fields repeated as
    columns for filtering. `derived` rows come from an item's endpoints (the catalogue derives
    them again when it is rebuilt); the others were declared in the file."""

    __tablename__ = "checks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(200))
    derived: Mapped[bool] = mapped_column(default=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime]


class CatalogueSettingsRecord(Base):
    """The catalogue's network policy and check schedules: one row (id 1), from the last load."""

    __tablename__ = "catalogue_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[dict[str, Any]] = mapped_column(JSON)
    schedules: Mapped[dict[str, int]] = mapped_column(JSON)
    loaded_at: Mapped[datetime]
    source_file: Mapped[str] = mapped_column(String(1000))


class CheckRunRecord(Base):
    """One result of one check: append-only history. The (check, checked_at) index serves both
    the latest result per check and one check's history, newest first."""

    __tablename__ = "check_runs"
    __table_args__ = (Index("ix_check_runs_check_checked_at", "check", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(Text)
    latency_ms: Mapped[float | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    checked_at: Mapped[datetime]


class ProblemRecord(Base):
    """A problem (PRB-000001). `trend_key` names the trend it was opened for; the partial
    unique index allows one not-closed problem per trend key, so two concurrent detection
    runs cannot open two problems for one trend (the loser's INSERT .. ON CONFLICT DO NOTHING
    finds the winner's). `frequency` is the count of its rows in problem_incidents."""

    __tablename__ = "problems"
    __table_args__ = (
        Index(
            "ix_problems_open_trend",
            "trend_key",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20))
    trend_key: Mapped[str | None] = mapped_column(String(300))
    service: Mapped[str | None] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    impact: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    priority: Mapped[int | None]
    frequency: Mapped[int] = mapped_column(default=0)
    major: Mapped[bool] = mapped_column(default=False)
    reporter: Mapped[str] = mapped_column(String(200))
    root_cause: Mapped[str | None] = mapped_column(Text)
    investigation_notes: Mapped[str | None] = mapped_column(Text)
    workaround: Mapped[str | None] = mapped_column(Text)
    known_error_number: Mapped[str | None] = mapped_column(String(20))
    change_ref: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
    review_summary: Mapped[str | None] = mapped_column(Text)
    review_lessons: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]


class ProblemIncidentRecord(Base):
    """Which incidents a problem links (many to many: an incident may belong to the trends of
    its service, its CI and its category at once). The primary key makes linking idempotent;
    the incident_number index answers "which problems is this incident part of"."""

    __tablename__ = "problem_incidents"

    problem_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    incident_number: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    linked_at: Mapped[datetime]
