"""What the event and check flow tests share: recording events, reading alerts and incidents,
runbooks saved in the block, a loopback HTTP target and its catalogue."""

import sys
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from prefect import flow
from sqlalchemy.orm import Session, sessionmaker

from blocks.event_policy import EventPolicyBlock
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.event import (
    EventIn,
    EventPolicy,
    MissedCheck,
    ResponseRule,
    Runbook,
)
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.event import AlertRepository, EventRepository
from serviceops.store.incident import IncidentRepository


def record(sessions: sessionmaker[Session], events: list[EventIn]) -> None:
    with sessions.begin() as session:
        EventRepository(session).record(events, datetime.now(UTC))


def event(**fields: Any) -> EventIn:
    base = {
        "source": "prometheus",
        "service": "mail",
        "check": "MailQueueHigh",
        "severity": "critical",
        "summary": "mail queue over 10k",
    }
    return EventIn.model_validate(base | fields)


def alerts(sessions: sessionmaker[Session]) -> list[Any]:
    with sessions.begin() as session:
        return AlertRepository(session).list()


def incident(sessions: sessionmaker[Session], number: str) -> Any:
    with sessions.begin() as session:
        return IncidentRepository(session).get(number)


def pending_count(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return EventRepository(session).count_pending()


def save_argv_runbook(marker: Path, *placeholders: str) -> None:
    """Save a policy whose runbook `restart` (for Queue* checks) writes its arguments into
    `marker`."""
    script = f"import pathlib, sys; pathlib.Path({str(marker)!r}).write_text(repr(sys.argv[1:]))"
    policy = EventPolicy(
        allowed_commands=[sys.executable],
        runbooks={"restart": Runbook(argv=[sys.executable, "-c", script, *placeholders])},
        responses=[ResponseRule(check="Queue*", response="remediate", runbook="restart")],
    )
    EventPolicyBlock(policy=policy).save("default", overwrite=True)


def save_broken_runbook() -> None:
    """Save a policy whose runbook `broken` (for Queue* checks) always exits 3."""
    policy = EventPolicy(
        allowed_commands=[sys.executable],
        runbooks={"broken": Runbook(argv=[sys.executable, "-c", "raise SystemExit(3)"])},
        responses=[ResponseRule(check="Queue*", response="remediate", runbook="broken")],
    )
    EventPolicyBlock(policy=policy).save("default", overwrite=True)


class Target(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        body = b"ok" if Target.status == 200 else b"broken"
        self.send_response(Target.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def load_catalogue(sessions: sessionmaker[Session], port: int) -> None:
    catalogue = Catalogue.model_validate(
        {
            "network": {"allow_loopback": True},
            "items": [
                {
                    "name": "shop",
                    "owner_group": "web",
                    "tier": 1,
                    "endpoints": [{"url": f"http://127.0.0.1:{port}/health", "contains": "ok"}],
                },
                {"name": "shop-db", "type": "database", "owner_group": "dba", "tier": 3},
            ],
        }
    )
    with sessions.begin() as session:
        CatalogueRepository(session).replace(catalogue, datetime.now(UTC), "test")


@flow(name="record-missed-check-probe")
def missed_check_probe(missed: MissedCheck) -> None:
    """Stands in for record-missed-check: the test only looks at the runs asked for."""
