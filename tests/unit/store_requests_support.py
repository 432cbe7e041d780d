"""Requests shared by the request store tests: a submission of every catalogue item, and
adding, reading and saving requests, each in a transaction of its own."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import (
    AccessGrant,
    AccessRevoke,
    LaptopModel,
    MailboxPermission,
    NewLaptop,
    PasswordReset,
    RequestSubmission,
    ServiceRequest,
    SharedMailbox,
    SoftwareInstall,
    VpnAccess,
)
from serviceops.store.request import RequestRepository

Sessions = sessionmaker[Session]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")

DETAILS = {
    "new_laptop": NewLaptop(
        model=LaptopModel.DEVELOPER,
        cost=Decimal("1899.90"),
        justification="Builds take an hour on the old one.",
        deliver_to="Alice Martin",
    ),
    "software_install": SoftwareInstall(
        software="JetBrains IDE", version="2025.1", host="lt-0042", licence_cost=Decimal("649")
    ),
    "password_reset": PasswordReset(account="alice.admin"),
    "access_grant": AccessGrant(
        user="alice",
        system="payroll",
        role="viewer",
        until=date(2025, 12, 31),
        justification="Quarter-end audit.",
    ),
    "access_revoke": AccessRevoke(user="bob", system="crm", role="admin", reason="Moved team."),
    "vpn_access": VpnAccess(user="carol", until=None),
    "shared_mailbox": SharedMailbox(
        user="dave", mailbox="support@example.com", permission=MailboxPermission.SEND_AS
    ),
}


def submission(details: str = "password_reset", **changes: object) -> RequestSubmission:
    values: dict[str, object] = {"requester": "alice@example.com", "details": DETAILS[details]}
    values.update(changes)
    return RequestSubmission.model_validate(values)


def add(
    sessions: Sessions,
    at: datetime = T0,
    details: str = "password_reset",
    source: str = "portal",
    **changes: object,
) -> ServiceRequest:
    with sessions.begin() as session:
        return RequestRepository(session).add(submission(details, **changes), source=source, at=at)


def get(sessions: Sessions, number: str) -> ServiceRequest:
    with sessions.begin() as session:
        return RequestRepository(session).get(number)


def save(sessions: Sessions, request: ServiceRequest) -> ServiceRequest:
    with sessions.begin() as session:
        return RequestRepository(session).save(request)


def update(sessions: Sessions, request: ServiceRequest, **changes: object) -> ServiceRequest:
    return save(sessions, request.model_copy(update=changes))
