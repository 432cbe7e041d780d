"""What the gateway fuzz suites run against: the gateway wired for fuzzing (every intake
configured, Prefect on a closed port, a request awaiting approval), the Hypothesis settings
they share, and 5xx answers turned into errors that carry the server's own exception.

Why the server's exception: the gateway answers every crash with the same `{"detail":
"internal error"}`, so an assertion on the status alone would make every bug look like one.
`ServerErrors` keeps the exception the gateway logged and `no_server_error` raises from it;
Hypothesis tells failures apart by where they were raised, their causes included, so each
distinct crash site is shrunk and reported on its own.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import ApprovalKind, RequestState, RequestSubmission, fulfilment
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.audit import AuditRepository
from serviceops.store.request import RequestRepository
from tests.unit.gateway_support import TOKEN, closed_port_url

WEBHOOK_SOURCE = "monitor"
WEBHOOK_SECRET = "monitor-secret"
PORTAL_SOURCE = "portal"
PORTAL_SECRET = "portal-secret"
ALERTMANAGER_TOKEN = "am-t0ken"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
AWAITING = "REQ-000001"
AWAITING_RUN = "8b0c5f0e-0000-4000-8000-0000000000aa"
# The only place a Slack reply may be posted (slack_response_hosts): a loopback port nobody
# listens on, so a generated response_url can never make the gateway post anywhere real.
REPLY_ORIGIN = closed_port_url().removesuffix("/api")
REPLY_URL = f"{REPLY_ORIGIN}/actions/T1/B2/xyz"

# Reproducible in CI: the same examples on every run and nothing written to .hypothesis/ in a
# checkout that several people share. deadline=None because a PostgreSQL round trip on a busy
# 2-core machine is not a bug; function_scoped_fixture because one database per test function
# (not per example) is the point: migrating PostgreSQL per example would take minutes.
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- the gateway


def gateway_settings(tmp_path: Path, database_url: str) -> Settings:
    """Every intake and the read API configured, so no answer is a 503 for want of a secret;
    Slack replies only to REPLY_ORIGIN."""
    return Settings(
        state_dir=tmp_path / "state",
        database_url=database_url,
        api_token=SecretStr(TOKEN),
        webhook_secrets={
            WEBHOOK_SOURCE: [SecretStr(WEBHOOK_SECRET)],
            PORTAL_SOURCE: [SecretStr(PORTAL_SECRET)],
        },
        alertmanager_token=SecretStr(ALERTMANAGER_TOKEN),
        slack_signing_secret=SecretStr(SLACK_SECRET),
        slack_response_hosts=[REPLY_ORIGIN],
    )


def fuzz_app(tmp_path: Path, database_url: str, sessions: sessionmaker[Session]) -> FastAPI:
    """The gateway with Prefect on a closed port: the run starts and process-events kicks it
    tries after accepting fail at once (connection refused), in the background."""
    return create_app(
        gateway_settings(tmp_path, database_url),
        sessions=sessions,
        prefect_api_url=closed_port_url(),
    )


def seed_awaiting_approval(sessions: sessionmaker[Session]) -> str:
    """REQ-000001, alice's laptop, waiting for the manager with a run noted: a Slack button
    naming it gets past every check to the resume (which then finds Prefect down)."""
    submission = RequestSubmission.model_validate(
        {
            "requester": "alice",
            "details": {
                "type": "new_laptop",
                "model": "standard",
                "cost": "999",
                "justification": "Replacement",
                "deliver_to": "alice",
            },
        }
    )
    with sessions.begin() as session:
        requests = RequestRepository(session)
        request = requests.add(submission, source=PORTAL_SOURCE, at=datetime.now(UTC))
        AuditRepository(session).add(fulfilment.submitted(request))
        requests.save(
            request.model_copy(
                update={
                    "state": RequestState.AWAITING_APPROVAL,
                    "approvals_required": [ApprovalKind.MANAGER],
                    "flow_run_id": AWAITING_RUN,
                }
            )
        )
    assert request.number == AWAITING
    return request.number


# --------------------------------------------------------------------------- 5xx as errors


class ServerError(AssertionError):
    """The gateway answered 5xx; raised from the exception it logged, when it logged one."""


class ServerErrors(logging.Handler):
    """The exceptions serviceops's gateway logged (the catch-all's 500s carry exc_info; the
    database handler's 503s pass the exception as a log argument)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.exceptions: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.exceptions.append(record.exc_info[1])
        elif isinstance(record.args, tuple):
            self.exceptions += [arg for arg in record.args if isinstance(arg, BaseException)]

    def take(self) -> BaseException | None:
        """The latest logged exception, forgetting all (one request at a time)."""
        latest = self.exceptions[-1] if self.exceptions else None
        self.exceptions.clear()
        return latest


@contextmanager
def server_errors() -> Iterator[ServerErrors]:
    """ServerErrors on the `serviceops.gateway` logger for the duration."""
    logger = logging.getLogger("serviceops.gateway")
    handler = ServerErrors()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def no_server_error(response: httpx.Response, errors: ServerErrors) -> None:
    """Raise ServerError when `response` is a 5xx, chained to what the gateway logged."""
    cause = errors.take()
    if response.status_code < 500:
        return
    request = response.request
    message = (
        f"{request.method} {request.url.raw_path.decode()} -> {response.status_code} "
        f"{response.text[:300]}\nrequest body: {request.content[:600]!r}"
    )
    raise ServerError(message) from cause
