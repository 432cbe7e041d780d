"""Helpers shared by the intake property tests: the gateway under test in process with the CLI
on the same database (Gateway, which also empties the tables between examples), the number of
examples, and the Idempotency-Key values sent."""

import json
import string
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from hypothesis import event, note
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app as cli_app
from serviceops.correlate import correlate_pending
from serviceops.domain.event import EventPolicy
from serviceops.store.schema import metadata
from tests.unit.fuzz_gateway_support import ServerErrors, no_server_error
from tests.unit.gateway_support import AUTH

EXAMPLES = 60
SEEDED_BY_MIGRATIONS = {"processing_locks"}  # rows the code needs, not records
# Prefect is down (a closed port) and the gateway must not wait for it: its client retries a
# refused connection for 1.5 s, so a typical answer this slow means the request path waits
# for a run start or a process-events kick. The median, because on a shared machine one
# answer in a hundred can take a second for reasons of its own.
MEDIAN_ANSWER_S = 0.5


class CliFailed(AssertionError):
    """A CLI read of an accepted record exited non-zero; raised from its exception."""


@dataclass(repr=False)  # Hypothesis prints the arguments of a failure: keep this one short
class Gateway:
    """The app under test in process, the CLI on the same database, and what was logged."""

    client: TestClient
    errors: ServerErrors
    sessions: sessionmaker[Session]
    runner: CliRunner
    latencies: list[float] = field(default_factory=list)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        note(f"POST {path} {body[:4000]!r}")  # Hypothesis prints notes with a failure
        started = time.monotonic()
        response = self.client.post(path, content=body, headers=headers)
        self.latencies.append(time.monotonic() - started)
        event(f"{path} answered {response.status_code}")  # --hypothesis-show-statistics
        no_server_error(response, self.errors)
        assert response.status_code != 401, f"signed wrong: {response.text}"
        return response

    def read(self, path: str) -> Any:
        """A read API document; it must exist (200): the record was accepted."""
        response = self.client.get(path, headers=AUTH)
        no_server_error(response, self.errors)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.json()

    def cli(self, *args: str) -> str:
        result = self.runner.invoke(cli_app, list(args))
        if result.exit_code != 0:
            cause = result.exception if not isinstance(result.exception, SystemExit) else None
            raise CliFailed(
                f"serviceops {' '.join(args)}: exit {result.exit_code}: {result.output[-500:]}"
            ) from cause
        return result.stdout

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json"))

    def forget_records(self) -> None:
        """Empty every table, so that each example is judged on its own payload.

        Records left by earlier examples would otherwise fail the reads of later ones (one
        unreadable row breaks every list that holds it), and Hypothesis would shrink towards
        a harmless payload that merely comes after a harmful one.
        """
        with self.sessions.begin() as session:
            for table in reversed(metadata.sorted_tables):
                if table.name not in SEEDED_BY_MIGRATIONS:
                    session.execute(table.delete())

    def correlate(self) -> None:
        """What process-events does with what was recorded (Prefect is down in these tests)."""
        correlate_pending(self.sessions, EventPolicy(), lambda: datetime.now(UTC))


_KEYS = st.text(
    string.ascii_letters + string.digits + string.punctuation + " ", min_size=1, max_size=200
)
