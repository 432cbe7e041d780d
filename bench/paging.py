"""Paging as an on-call engineer feels it, on the stack `make up` starts (Slack is the loopback
fake of its Web API, mail a real SMTP server on loopback):

- incident logged to the first page delivered (the Slack direct message and the mail), p50
  and p95 over 20 incidents one at a time, two ways: logged in the UI's form (a log-incident
  run of the deployment) and raised by monitoring (an alert posted as Alertmanager posts it);
- escalation lateness: how long after its level's wait each next level is paged, p50 and p99
  over 50 pages nobody answers (five at a time: serve runs at most five flow runs at once,
  Prefect's runner process limit; each a ladder of two levels and the exhausted step).

While the first pages are measured the ladder waits an hour, so no escalation competes with
them; then it waits WAIT. `python -m bench.paging --lateness` measures the lateness alone.
"""

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bench.stack_run import free_port
from serviceops.domain.oncall import EscalationPolicy, Layer, Level, Page, PageState, Schedule
from serviceops.domain.request import Identity
from serviceops.prefect_rest import call
from serviceops.settings import Settings
from serviceops.stack import Stack
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import sessions_for
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import PageRepository
from serviceops.store.request import IdentityRepository
from tests.fakes.mail import MailServer
from tests.fakes.slack import FakeSlack

FIRST_PAGES = 20
LADDERS, AT_ONCE = 50, 5
WAIT = timedelta(seconds=10)
PEOPLE = {"alex": "U0ALEX", "casey": "U0CASEY", "olivia": "U0OLIVIA"}
INCIDENT = {
    "service": "mail",
    "category": "software/email",
    "impact": "high",
    "urgency": "medium",  # priority 2: pages at any hour
    "reporter": "bench",
}


def _quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _on_call_everywhere(settings: Settings, wait: timedelta) -> None:
    """Every support group pages alex, then olivia, `wait` apart; the people have a Slack id
    and a mail address."""
    sessions = sessions_for(settings.resolved_database_url)
    levels = [Level(targets=[t], wait=wait) for t in ("primary", "manager")]  # type: ignore[list-item]
    ladder = EscalationPolicy(levels=levels)
    with sessions.begin() as session:
        catalogue = CatalogueRepository(session).catalogue()
        schedules = [
            Schedule(
                group=schedule.group,
                manager="olivia",
                layers=[
                    Layer(name="primary", members=["alex"], start=date(2026, 1, 5)),
                    Layer(name="secondary", members=["casey"], start=date(2026, 1, 5)),
                ],
                escalation=ladder,
            )
            for schedule in catalogue.oncall
        ]
        updated = catalogue.model_copy(update={"oncall": schedules})
        CatalogueRepository(session).replace(updated, datetime.now(UTC), "bench")
        for person, slack_id in PEOPLE.items():
            identity = Identity(user=person, slack_user_id=slack_id, email=f"{person}@example.org")
            IdentityRepository(session).upsert(identity)


def _log(api: httpx.Client, deployment: str, title: str) -> None:
    parameters = {"incident": INCIDENT | {"title": title}}
    call(api, "POST", f"/deployments/{deployment}/create_flow_run", json={"parameters": parameters})


def _first_pages(
    log: Callable[[str], None], slack: FakeSlack, mail: MailServer
) -> tuple[list[float], list[float]]:
    """Seconds from `log(marker)` (an incident whose page shows `marker`) to its page's
    Slack direct message and its mail, one incident at a time."""
    to_slack: list[float] = []
    to_mail: list[float] = []
    for i in range(FIRST_PAGES):
        marker = f"bench-first-page-{time.monotonic_ns()}-{i}"
        started = time.perf_counter()
        log(marker)
        dm: float | None = None
        mailed: float | None = None
        while dm is None or mailed is None:
            if dm is None and any(
                m["channel"] == "U0ALEX" and marker in json.dumps(m["blocks"])
                for m in slack.messages
            ):
                dm = time.perf_counter() - started
            if mailed is None and any(marker in m.get_content() for m in mail.mails):
                mailed = time.perf_counter() - started
            if time.perf_counter() - started > 180:
                raise AssertionError(f"{marker}: no first page after 180 s")
            time.sleep(0.02)
        to_slack.append(dm)
        to_mail.append(mailed)
    return to_slack, to_mail


def _from_the_form(api: httpx.Client, deployment: str) -> Callable[[str], None]:
    """An incident logged as the UI's form does: a log-incident run of the deployment."""

    def log(marker: str) -> None:
        _log(api, deployment, f"Benchmark incident {marker}")

    return log


def _from_alertmanager(gateway: str, token: str) -> Callable[[str], None]:
    """An incident raised by monitoring: a critical alert for a service of its own, posted
    as Alertmanager posts it; process-events (always watching) raises it and pages."""

    def log(marker: str) -> None:
        alert = {
            "status": "firing",
            "labels": {"alertname": "ServiceDown", "service": marker, "severity": "critical"},
            "annotations": {"summary": "service down"},
            "startsAt": datetime.now(UTC).isoformat(),
            "fingerprint": marker[-16:],
        }
        payload = {
            "version": "4",
            "groupKey": marker,
            "status": "firing",
            "receiver": "serviceops",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.bench",
            "truncatedAlerts": 0,
            "alerts": [alert],
        }
        headers = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(f"{gateway}/webhooks/alertmanager", json=payload, headers=headers)
        answer.raise_for_status()

    return log


def _print_first_pages(how: str, to_slack: list[float], to_mail: list[float]) -> None:
    print(f"Incident {how} to first page delivered, {FIRST_PAGES} incidents, make up's stack")
    for label, samples in (("Slack direct message", to_slack), ("mail (SMTP)", to_mail)):
        print(f"  {label:<22} p50 {statistics.median(samples):6.2f} s  "
              f"p95 {_quantile(samples, 0.95):6.2f} s", flush=True)  # fmt: skip


def _lateness(api: httpx.Client, deployment: str, settings: Settings) -> list[float]:
    """Seconds each level after the first was paged past its wait, over LADDERS pages; a
    wave that does not end within five minutes is reported and left."""
    sessions = sessions_for(settings.resolved_database_url)
    late: list[float] = []
    for wave in range(LADDERS // AT_ONCE):
        titles = [f"Benchmark ladder {wave}-{i}" for i in range(AT_ONCE)]
        for title in titles:
            _log(api, deployment, title)
            time.sleep(0.5)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            pages = _pages_of(sessions, titles)
            if len(pages) == len(titles) and all(p.state is PageState.EXHAUSTED for p in pages):
                break
            time.sleep(0.5)
        else:
            states = [(p.number, p.state.value, p.step, len(p.paged)) for p in pages]
            print(f"  wave {wave} did not end in 300 s: {states}", flush=True)
        for page in pages:
            for before, after in zip(page.paged, page.paged[1:], strict=False):
                late.append((after.at - before.at - WAIT).total_seconds())
    return late


def _pages_of(sessions: sessionmaker[Session], titles: list[str]) -> list[Page]:
    """The pages of these incidents (those opened so far)."""
    with sessions.begin() as session:
        numbers = [
            i.number for i in IncidentRepository(session).list(limit=1000) if i.title in titles
        ]
        pages = [PageRepository(session).of_incident(number) for number in numbers]
    return [p for p in pages if p is not None]


def main() -> None:
    with FakeSlack() as slack, MailServer() as mail, tempfile.TemporaryDirectory() as state:
        os.environ |= {
            "SERVICEOPS_SLACK_TOKEN": "xoxb-test",
            "SERVICEOPS_SLACK_BASE_URL": slack.base_url,
            "SERVICEOPS_SMTP_HOST": "127.0.0.1",
            "SERVICEOPS_SMTP_PORT": str(mail.port),
        }
        settings = Settings(
            state_dir=Path(state), prefect_port=free_port(), gateway_port=free_port()
        )
        stack = Stack(settings)
        try:
            stack.up()
            with httpx.Client(base_url=settings.prefect_api_url, timeout=10) as api:
                deployment = call(api, "GET", "/deployments/name/log-incident/log-incident")
                deployment_id = deployment.json()["id"]
                if "--lateness" not in sys.argv:
                    _on_call_everywhere(settings, timedelta(hours=1))
                    form = _from_the_form(api, deployment_id)
                    _print_first_pages("logged in the form", *_first_pages(form, slack, mail))
                    gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
                    token = settings.read_alertmanager_token() or ""
                    alerts = _from_alertmanager(gateway, token)
                    _print_first_pages("raised by an alert", *_first_pages(alerts, slack, mail))
                _on_call_everywhere(settings, WAIT)
                late = _lateness(api, deployment_id, settings)
        finally:
            stack.down()
    print(f"Escalation lateness, {len(late)} levels of {LADDERS} pages ({AT_ONCE} at a time), "
          f"each level {WAIT.total_seconds():.0f} s")  # fmt: skip
    print(f"  after its wait        p50 {statistics.median(late):6.2f} s  "
          f"p99 {_quantile(late, 0.99):6.2f} s  max {max(late):6.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
