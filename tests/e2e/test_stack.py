"""`make up` in a temporary clone: a deployment run through Prefect's REST API, the record
through the read API, the CLI, the UI in a browser, then `make down` cancelling nothing.

The tests share one running stack and run in file order; the last one stops it."""

import getpass
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest

from serviceops.gateway.signatures import sign_serviceops, sign_slack
from serviceops.prefect_rest import call
from tests.e2e.browser_support import chromium
from tests.e2e.conftest import SLACK_SIGNING_SECRET, WEBHOOK_SECRET, RunningStack
from tests.e2e.stack_support import FINAL, iso, run_deployment, storm_delivery, wait_for_run

pytestmark = pytest.mark.e2e

DEPLOYMENTS = [
    "log-incident", "acknowledge-incident", "start-incident-work", "pend-incident",
    "resume-incident", "escalate-incident", "resolve-incident", "close-incident",
    "reopen-incident", "housekeeping", "fulfil-request", "request-new-laptop",
    "request-software-install", "request-password-reset", "request-access-grant",
    "request-access-revoke", "request-vpn-access", "request-shared-mailbox", "review-access",
    "record-missed-check", "add-silence", "extend-silence", "lift-silence", "process-events",
    "http-checks", "tcp-checks", "tls-checks",
    "backup-checks", "disk-checks", "database-checks", "daily-report", "weekly-report",
    "log-problem", "categorize-problem", "prioritize-problem", "investigate-problem",
    "record-workaround", "raise-known-error", "resolve-problem", "close-problem",
    "review-major-problem", "detect-problems", "set-oncall-override", "page-on-call",
    "acknowledge-page",
]  # fmt: skip
CHECK_KINDS = ["http", "tcp", "tls", "backup", "disk", "database"]
INCIDENT = {
    "title": "Checkout returns 502",
    "service": "shop",
    "category": "software/web",
    "impact": "high",
    "urgency": "medium",
    "reporter": "dave",
}


def test_make_up_prints_where_things_are(stack: RunningStack) -> None:
    assert stack.ui_url in stack.up_output
    assert ".serviceops/api-token" in stack.up_output
    assert len(stack.token) >= 32


def test_the_gateway_gets_the_cpu_before_the_background(stack: RunningStack) -> None:
    """Intake answers senders who wait: the other processes run 5 nicer than the gateway."""
    run = stack.clone / ".serviceops" / "run"
    nice = {
        name: os.getpriority(os.PRIO_PROCESS, int((run / f"{name}.pid").read_text()))
        for name in ("prefect-server", "serve", "routine", "gateway")
    }
    gateway = nice.pop("gateway")
    assert nice == dict.fromkeys(nice, gateway + 5), nice


def test_log_incident_through_rest_then_read_api(stack: RunningStack) -> None:
    state = run_deployment(stack, "log-incident", {"incident": INCIDENT})
    assert state["type"] == "COMPLETED", state
    headers = {"Authorization": f"Bearer {stack.token}"}
    listed = httpx.get(f"{stack.gateway_url}/api/v1/incidents", headers=headers, timeout=10)
    assert listed.status_code == 200
    incidents = listed.json()["incidents"]
    mine = [i for i in incidents if i["title"] == "Checkout returns 502"]
    assert len(mine) == 1
    number = mine[0]["number"]
    one = httpx.get(f"{stack.gateway_url}/api/v1/incidents/{number}", headers=headers, timeout=10)
    assert one.status_code == 200
    record = one.json()["incident"]
    assert record["priority"] == 2 and record["state"] == "assigned"
    assert record["resolution_due_at"] is not None
    assert [entry["action"] for entry in one.json()["audit"]][:2] == ["log", "categorize"]
    assert httpx.get(f"{stack.gateway_url}/api/v1/incidents", timeout=10).status_code == 401


def test_cli_runs_the_same_deployments(stack: RunningStack) -> None:
    opened = stack.cli(
        "incident",
        "open",
        "--title",
        "Printer queue stuck",
        "--service",
        "printing",
        "--category",
        "hardware/printer",
        "--impact",
        "low",
        "--urgency",
        "low",
        "--reporter",
        "erin",
        "--json",
    )
    assert opened.returncode == 0, opened.stderr
    document = json.loads(opened.stdout)
    number = document["incident"]["number"]
    assert document["flow_run_id"]
    acked = stack.cli("incident", "ack", number, "--actor", "frank", "--json")
    assert acked.returncode == 0, acked.stderr
    assert json.loads(acked.stdout)["incident"]["assignee"] == "frank"
    illegal = stack.cli("incident", "close", number, "--actor", "frank")
    assert illegal.returncode == 1
    assert "cannot close" in illegal.stderr
    shown = json.loads(stack.cli("incident", "show", number, "--json").stdout)
    assert shown["incident"]["state"] == "assigned"
    # --actor names anyone; what vouches is the OS user who ran the CLI.
    user = getpass.getuser()
    by_person = [(e["action"], e["actor"], e["via"], e["actor_ref"]) for e in shown["audit"]]
    assert ("log", "erin", "cli", user) in by_person
    assert ("acknowledge", "frank", "cli", user) in by_person


def test_every_support_group_is_on_call_after_make_up(stack: RunningStack) -> None:
    """The default catalogue's schedules answer at once; an override set with the CLI runs
    its deployment and shows on the read API."""
    who = stack.cli("oncall", "who", "--json")
    assert who.returncode == 0, who.stderr
    groups = {view["group"] for view in json.loads(who.stdout)["oncall"]}
    assert groups == {"operations", "messaging", "web", "dba", "service-desk"}

    now = datetime.now(UTC).replace(microsecond=0)
    window = ["--from", (now - timedelta(minutes=1)).isoformat(),
              "--until", (now + timedelta(hours=1)).isoformat()]  # fmt: skip
    override = ["oncall", "override", "--group", "dba", "--person", "sam", "--actor", "dora"]
    covered = stack.cli(*override, *window, "--reason", "e2e")
    assert covered.returncode == 0, covered.stderr
    auth = {"Authorization": f"Bearer {stack.token}"}
    shown = httpx.get(f"{stack.gateway_url}/api/v1/oncall?group=dba", headers=auth, timeout=10)
    assert shown.status_code == 200, shown.text
    (dba,) = shown.json()["oncall"]
    assert (dba["person"], dba["why"]) == ("sam", "override")


def test_prefect_ui_lists_the_deployments(stack: RunningStack) -> None:
    executable = chromium()
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"{stack.ui_url}/deployments",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))
    assert f"{len(DEPLOYMENTS)} Deployments" in text
    shown = [name for name in DEPLOYMENTS if name in text]
    assert len(shown) >= 10, f"the first page (ten a page) lists only {shown}"


def test_portal_request_approved_with_a_slack_button(stack: RunningStack) -> None:
    submission = {
        "requester": "quinn",
        "details": {
            "type": "software_install",
            "software": "Figma",
            "host": "pc-7",
            "licence_cost": 600,
        },
    }
    body = json.dumps(submission).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": "portal-e2e-1",
        "X-ServiceOps-Source": "portal",
        "X-ServiceOps-Timestamp": stamp,
        "X-ServiceOps-Signature": sign_serviceops(WEBHOOK_SECRET, stamp, body),
    }
    accepted = httpx.post(
        f"{stack.gateway_url}/webhooks/requests", content=body, headers=headers, timeout=10
    )
    assert accepted.status_code == 202, accepted.text
    number = accepted.json()["number"]
    assert number.startswith("REQ-")
    run_id = None  # the gateway creates the run just after its 202; a repeat then names it
    deadline = time.monotonic() + 30
    while run_id is None and time.monotonic() < deadline:
        time.sleep(0.2)
        repeat = httpx.post(
            f"{stack.gateway_url}/webhooks/requests", content=body, headers=headers, timeout=10
        )
        assert repeat.status_code == 202 and repeat.json()["number"] == number
        run_id = repeat.json()["flow_run_id"]
    assert run_id, "the gateway never started fulfil-request"
    wait_for_run(stack, run_id, {"PAUSED"})  # financial approval: licence over 500

    # The buttons know people by their Slack id: the default financial approver is put in
    # the directory under the id Slack will send.
    added = stack.cli("identity", "set", "finance-lead", "--slack-id", "U0FIONA",
                      "--email", "fiona@example.com")  # fmt: skip
    assert added.returncode == 0, added.stderr
    action = {"number": number, "kind": "financial", "flow_run_id": run_id}
    payload = {
        "type": "block_actions",
        "user": {"id": "U0FIONA", "username": "fiona"},
        "actions": [{"action_id": "approve", "value": json.dumps(action)}],
    }
    form = urlencode({"payload": json.dumps(payload)}).encode()
    for _ in range(20):  # the run shows PAUSED a moment before its input form is saved
        stamp = str(int(time.time()))
        clicked = httpx.post(
            f"{stack.gateway_url}/slack/interactions",
            content=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": sign_slack(SLACK_SIGNING_SECRET, stamp, form),
            },
            timeout=10,
        )
        assert clicked.status_code == 200, clicked.text
        if clicked.json()["text"].startswith("Approved"):
            break
        time.sleep(0.5)
    assert clicked.json()["text"].startswith("Approved"), clicked.json()
    assert wait_for_run(stack, run_id, FINAL) == "COMPLETED"

    auth = {"Authorization": f"Bearer {stack.token}"}
    shown = httpx.get(f"{stack.gateway_url}/api/v1/requests/{number}", headers=auth, timeout=10)
    record = shown.json()["request"]
    assert record["state"] == "closed"
    assert [(a["kind"], a["approver"]) for a in record["approvals"]] == [
        ("financial", "finance-lead")
    ]
    trail = {e["action"]: (e["actor"], e["via"], e["actor_ref"]) for e in shown.json()["audit"]}
    assert trail["submit"] == ("quinn", "token", "portal")  # the portal's secret signed it
    assert trail["approve"] == ("finance-lead", "slack", "U0FIONA")


def test_event_management_and_checks_in_the_stack(stack: RunningStack) -> None:
    """The dead-man automations exist, a routine check runs from the CLI against the stack's
    own gateway, and an Alertmanager alert becomes an incident through process-events."""
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        automations = call(api, "POST", "/automations/filter", json={}).json()
    deadman = {a["name"]: a for a in automations if a["name"].startswith("serviceops dead-man")}
    assert sorted(deadman) == sorted(f"serviceops dead-man: {k}-checks" for k in CHECK_KINDS)
    assert all(a["trigger"]["posture"] == "Proactive" for a in deadman.values())

    ran = stack.cli("checks", "run", "--kind", "http", "--json")
    assert ran.returncode == 0, ran.stderr
    checks = {c["name"]: c for c in json.loads(ran.stdout)["checks"]}
    assert checks["serviceops-gateway-http"]["latest"]["status"] == "ok"
    assert checks["prefect-server-http"]["latest"]["status"] == "ok"

    token = (stack.clone / ".serviceops/alertmanager-token").read_text().strip()
    alert = {
        "status": "firing",
        "labels": {"alertname": "CheckoutErrors", "severity": "critical", "service": "shop"},
        "annotations": {"summary": "checkout 5xx over 5 %"},
        "startsAt": "2026-11-26T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": "e2e0001",
    }
    payload = {"version": "4", "status": "firing", "receiver": "serviceops", "alerts": [alert]}
    posted = httpx.post(
        f"{stack.gateway_url}/webhooks/alertmanager",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert posted.status_code == 202, posted.text
    headers = {"Authorization": f"Bearer {stack.token}"}
    deadline = time.monotonic() + 120
    number = None
    while number is None and time.monotonic() < deadline:
        listed = httpx.get(f"{stack.gateway_url}/api/v1/alerts", headers=headers, timeout=10)
        mine = [a for a in listed.json()["alerts"] if a["key"] == "shop"]
        number = mine[0]["incident_number"] if mine else None
        time.sleep(1)
    assert number is not None, "the alert raised no incident within 120 s"
    record = httpx.get(
        f"{stack.gateway_url}/api/v1/incidents/{number}", headers=headers, timeout=10
    ).json()["incident"]
    assert (record["source"], record["service"], record["title"]) == (
        "monitoring",
        "shop",
        "checkout 5xx over 5 %",
    )


STORM_RATE, STORM_S, STORM_BATCH = 500, 10, 50  # events a second: a quarter of what it holds


def test_a_storm_is_decided_whole_once_by_a_few_runs(stack: RunningStack) -> None:
    """500 events a second for 10 s over a real socket: every accepted event recorded and
    decided once (the alerts count each event once), within seconds, by at most three
    process-events runs however many deliveries came."""
    since = time.time()
    numbers: list[str] = []
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as gateway:
        deliveries = STORM_RATE * STORM_S // STORM_BATCH
        for i in range(deliveries):
            time.sleep(max(0.0, since + i * STORM_BATCH / STORM_RATE - time.time()))
            answer = gateway.post("/webhooks/events", **storm_delivery(i, STORM_BATCH))
            assert answer.status_code == 202, answer.text
            numbers += answer.json()["events"]
    sent = time.time()
    assert len(set(numbers)) == STORM_RATE * STORM_S, "every event recorded, each once"
    database = stack.clone / ".serviceops/serviceops.db"
    deadline = time.monotonic() + 60
    while True:
        with sqlite3.connect(database) as connection:
            ((pending,),) = connection.execute(
                "SELECT count(*) FROM events WHERE source = 'storm' AND processed_at IS NULL"
            )
            ((counted,),) = connection.execute(
                "SELECT coalesce(sum(event_count), 0) FROM alerts WHERE key LIKE 'storm-%'"
            )
        if pending == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert pending == 0, f"{pending} events undecided 60 s after the storm"
    assert counted == len(numbers), "each event counted on its alert once"
    assert time.time() - sent < 15, "decided within seconds of the last delivery"
    # The runs that watched during the storm: those that ended after it began, and those
    # still running (a scheduled watch may have started before the first delivery).
    flow = {"name": {"any_": ["process-events"]}}
    ended = {"end_time": {"after_": iso(since - 5)}}
    running = {"state": {"type": {"any_": ["RUNNING", "PENDING"]}}}
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        runs = sum(
            int(call(api, "POST", "/flow_runs/count", json={"flows": flow, "flow_runs": f}).json())
            for f in (running, ended)  # in this order a run ending between counts twice, not never
        )
    assert 1 <= runs <= 3, f"{runs} process-events runs for {deliveries} deliveries"


def test_make_down_waits_for_runs_in_flight_and_cancels_none(stack: RunningStack) -> None:
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        deployment = call(api, "GET", "/deployments/name/log-incident/log-incident")
        just_started = call(
            api,
            "POST",
            f"/deployments/{deployment.json()['id']}/create_flow_run",
            json={"parameters": {"incident": {**INCIDENT, "title": "Logged as we stop"}}},
        )
    down = stack.make("down")
    assert down.returncode == 0, down.stderr
    assert "dead-man automations disabled: serviceops dead-man: http-checks" in down.stderr
    assert not list((stack.clone / ".serviceops/run").glob("*.pid"))
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{stack.api_url}/health", timeout=2)
    database = stack.clone / ".serviceops/prefect/prefect.db"
    with sqlite3.connect(database) as connection:
        states = dict(
            connection.execute("SELECT state_type, count(*) FROM flow_run GROUP BY state_type")
        )
        (last,) = connection.execute(
            "SELECT state_type FROM flow_run WHERE id = ?", (just_started.json()["id"],)
        ).fetchone()
    assert last == "COMPLETED", "make down let the run it found starting finish"
    assert states.get("CANCELLED", 0) == 0, states
