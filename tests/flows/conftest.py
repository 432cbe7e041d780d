"""Flows run against a real Prefect server (the test harness, started once per session), a real
database (SQLite and PostgreSQL) and the loopback fake of Slack's Web API."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    temporary_settings,
)
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy.orm import Session, sessionmaker

from serviceops.settings import get_settings
from serviceops.store.db import make_engine, migrate
from tests.conftest import POSTGRES_URL_ENV, postgres_schema
from tests.fakes.mail import MailServer
from tests.fakes.slack import FakeSlack
from tests.fakes.sms import ACCOUNT, TOKEN, FakeSms

ROOT = Path(__file__).resolve().parents[2]
PAGE_LINK_SECRET = "page-link-secret-of-the-tests"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    # Sync flows wait ~1 s for the heartbeat thread at their end; no heartbeat in tests.
    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield


@pytest.fixture
def serviceops_env(
    prefect_server: None, database_url: str, fake_slack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The flows' settings point at this test's database and the fake Slack."""
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("SERVICEOPS_SLACK_TOKEN", "xoxb-test")
    monkeypatch.setenv("SERVICEOPS_SLACK_BASE_URL", fake_slack.base_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


# Flows that suspend (fulfil-request) need a deployment and a runner: these tests serve the
# on-demand deployments from a `python -m deployments.serve` process against the test server,
# once per module and database backend.

BLOCK_HAND_OVER = {
    "sqlite": [
        "CREATE TRIGGER block_hand_over BEFORE INSERT ON notifications"
        " WHEN NEW.key LIKE '%hand_over_hardware%'"
        " BEGIN SELECT RAISE(ABORT, 'mail room closed'); END"
    ],
    "postgres": [
        "CREATE FUNCTION block_hand_over() RETURNS trigger AS $$ BEGIN"
        " IF NEW.key LIKE '%hand_over_hardware%' THEN RAISE EXCEPTION 'mail room closed';"
        " END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER block_hand_over BEFORE INSERT ON notifications"
        " FOR EACH ROW EXECUTE FUNCTION block_hand_over()",
    ],
}
UNBLOCK_HAND_OVER = {
    "sqlite": "DROP TRIGGER block_hand_over",
    "postgres": "DROP TRIGGER block_hand_over ON notifications",
}


class ServeProcess:
    """`python -m deployments.serve` against the test server, which a test may kill and
    start again (a restart while runs wait)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "deployments.serve"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        _wait_for_deployments(self.log)

    def kill(self) -> None:
        """SIGKILL: serve gets no chance to tidy anything up."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


@dataclass(frozen=True)
class ServedStack:
    backend: str
    database_url: str
    sessions: sessionmaker[Session]
    slack: FakeSlack
    mail: MailServer
    sms: FakeSms
    serve: ServeProcess

    @property
    def block_hand_over(self) -> list[str]:
        """Statements that make the hand-over work order fail (a real failure, no mock)."""
        return BLOCK_HAND_OVER[self.backend]

    @property
    def unblock_hand_over(self) -> str:
        return UNBLOCK_HAND_OVER[self.backend]


def flow_backend() -> str:
    """Flows run once, on PostgreSQL (production's backend) when the tests have one, else on
    SQLite. Both backends are covered where they differ: every store test runs on each, and
    the e2e tests run the embedded SQLite stack end to end. Running every flow twice would
    double the slowest part of the suite for no behaviour the store tests do not pin."""
    return "postgres" if os.environ.get(POSTGRES_URL_ENV) else "sqlite"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """One empty database on the flows' backend (see flow_backend), not migrated."""
    if flow_backend() == "postgres":
        with postgres_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'serviceops.db'}"


@pytest.fixture(scope="module")
def served(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedStack]:
    with serving(tmp_path_factory.mktemp("served")) as stack:
        yield stack


@contextmanager
def serving(folder: Path) -> Iterator[ServedStack]:
    """A serviceops database, the fakes and serve, against the Prefect API of the settings in
    force (the test harness's, or a server a test starts itself)."""
    backend = flow_backend()
    with ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'serviceops.db'}"
        else:
            url = stack.enter_context(postgres_schema())
        migrate(url)
        slack = stack.enter_context(FakeSlack())
        mail, sms = stack.enter_context(MailServer()), stack.enter_context(FakeSms())
        env = {
            "SERVICEOPS_DATABASE_URL": url,
            "SERVICEOPS_SLACK_TOKEN": "xoxb-test",
            "SERVICEOPS_SLACK_BASE_URL": slack.base_url,
            "SERVICEOPS_SMTP_HOST": "127.0.0.1",
            "SERVICEOPS_SMTP_PORT": str(mail.port),
            "SERVICEOPS_SMS_BASE_URL": sms.base_url,
            "SERVICEOPS_SMS_ACCOUNT": ACCOUNT,
            "SERVICEOPS_SMS_TOKEN": TOKEN,
            "SERVICEOPS_SMS_FROM": "+15550001111",
            "SERVICEOPS_PAGE_LINK_SECRET": PAGE_LINK_SECRET,
            "SERVICEOPS_PUBLIC_URL": "http://desk.test",
        }
        stack.enter_context(_environment(env))
        served_env = dict(os.environ) | {
            "PREFECT_API_URL": PREFECT_API_URL.value(),
            "PREFECT_HOME": str(folder / "prefect-home"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        serve = ServeProcess(served_env, folder / "serve.log")
        stack.callback(serve.stop)
        serve.start()
        engine = make_engine(url)
        stack.callback(engine.dispose)
        sessions = sessionmaker(engine, expire_on_commit=False)
        yield ServedStack(backend, url, sessions, slack, mail, sms, serve)


def _wait_for_deployments(log: Path, timeout: float = 90) -> None:
    """Until serve has registered the procedures people start (the scheduled routine is the
    routine runner's, not started here: the tests call those flows themselves) and says it
    polls (a restarted serve appends to the same log: a new "polling" line is its own)."""
    polled = log.read_text().count("polling") if log.exists() else 0
    from deployments.definitions import definitions

    expected = {d.name for d in definitions() if not d.scheduled}
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            deployments = client.read_deployments()
            polling = log.read_text().count("polling") > polled
            if {d.name for d in deployments} >= expected and polling:
                return
            time.sleep(0.5)
    raise AssertionError(f"serve did not register its deployments:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Module-wide settings for in-process flow calls (monkeypatch is per test)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
