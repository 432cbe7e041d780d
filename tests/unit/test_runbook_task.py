"""The runbook task without a Prefect server: the task's function against a real database
(SQLite and PostgreSQL), the event policy given directly, and subprocess.run spied on.

A hostile label must start nothing, leave its reason on the alert's trail and be given up at
once (not retried by the next runs); a plain one runs with the check's name in `{check}`."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

import tasks.events as event_tasks
from serviceops.correlate import correlate_pending
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.event import EventIn, EventPolicy, ResponseRule, Runbook, RunbookRefused
from serviceops.store.audit import AuditRepository
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.event import AlertAction, AlertActionRepository, EventRepository

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HOSTILE = "-oProxyCommand=touch /tmp/x"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every argument list the task hands to subprocess.run (which still runs it)."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def run(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(list(argv))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(event_tasks.subprocess, "run", run)
    return calls


def use(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], policy: EventPolicy
) -> None:
    monkeypatch.setattr(event_tasks, "sessions", lambda: sessions)
    monkeypatch.setattr(event_tasks, "load_event_policy", lambda: policy)


def policy_writing_argv(marker: Path) -> EventPolicy:
    """A runbook that writes the arguments it was given into `marker`."""
    script = f"import pathlib, sys; pathlib.Path({str(marker)!r}).write_text(repr(sys.argv[1:]))"
    return EventPolicy(
        allowed_commands=[sys.executable],
        runbooks={"fix": Runbook(argv=[sys.executable, "-c", script, "{ci}", "{check}"])},
        responses=[ResponseRule(check="Queue*", response="remediate", runbook="fix")],
    )


def runbook_action(
    sessions: sessionmaker[Session],
    policy: EventPolicy,
    checks: tuple[str, ...] = ("QueueStuck",),
    **fields: Any,
) -> AlertAction:
    """Record an event per check (one alert), correlate them and claim the runbook action."""
    base = {"source": "alertmanager", "service": "mail", "severity": "warning", "summary": "x"}
    with sessions.begin() as session:
        CatalogueRepository(session).replace(
            Catalogue.model_validate(
                {
                    "items": [
                        {"name": n, "owner_group": "ops", "tier": 2} for n in ("mail", "db..old")
                    ]
                }
            ),
            T0,
            "cmdb.toml",
        )
        EventRepository(session).record(
            [EventIn.model_validate(base | {"check": check} | fields) for check in checks], T0
        )
    correlate_pending(sessions, policy, lambda: T0)
    with sessions.begin() as session:
        (action,) = AlertActionRepository(session).claim(T0, T0)
    return action


def test_a_hostile_ci_label_starts_nothing_and_is_given_up_with_the_reason_on_the_trail(
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    started: list[list[str]],
    tmp_path: Path,
) -> None:
    marker = tmp_path / "argv"
    policy = policy_writing_argv(marker)
    use(monkeypatch, sessions, policy)
    action = runbook_action(sessions, policy, ci=HOSTILE)

    with pytest.raises(RunbookRefused, match="ci") as refused:
        event_tasks.run_runbook.fn(action)
    assert started == [] and not marker.exists()
    assert event_tasks.release_alert_action.fn(action, str(refused.value)) is True  # given up

    with sessions.begin() as session:
        (stored,) = AlertActionRepository(session).for_alert(action.alert_number)
        trail = AuditRepository(session).for_record(action.alert_number)
        claimable = AlertActionRepository(session).claim(T0, T0)
    assert stored.done_at is not None and claimable == []  # not retried by the next run
    assert stored.outcome == f"given up: {refused.value}"
    assert trail[-1].action == "runbook"
    assert trail[-1].reason.startswith(f"runbook fix refused: ci {HOSTILE!r} is neither")
    assert [entry.action for entry in trail].count("runbook") == 1


def test_a_runbook_gets_the_check_that_asked_for_it_and_an_odd_catalogue_name(
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    started: list[list[str]],
    tmp_path: Path,
) -> None:
    """The alert opened with a notify (MailSlow); QueueStuck escalated it to the runbook."""
    marker = tmp_path / "argv"
    policy = policy_writing_argv(marker)
    use(monkeypatch, sessions, policy)
    action = runbook_action(sessions, policy, ("MailSlow", "QueueStuck"), ci="db..old")

    outcome = event_tasks.run_runbook.fn(action)
    assert outcome.startswith("fix exited 0")
    assert marker.read_text() == repr(["db..old", "QueueStuck"])
    assert len(started) == 1
    with sessions.begin() as session:
        trail = AuditRepository(session).for_record(action.alert_number)
    assert (trail[-1].action, trail[-1].reason) == ("runbook", "fix: ok")
