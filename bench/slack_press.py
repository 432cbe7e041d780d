"""A Slack button press, as a person sees it: from the signed POST of Acknowledge to the
gateway until the incident is acknowledged in the record and its message in the channel is
updated in place (chat.update), over 20 presses, on the stack `make up` starts (Slack is the
loopback fake of its Web API). p50 and p95; the press's own HTTP answer is timed too.
"""

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.stack_run import free_port
from serviceops.domain.request import Identity
from serviceops.gateway.signatures import sign_slack
from serviceops.prefect_rest import call
from serviceops.settings import Settings
from serviceops.stack import Stack
from serviceops.store.db import sessions_for
from serviceops.store.incident import IncidentRepository
from serviceops.store.request import IdentityRepository
from tests.fakes.slack import FakeSlack

PRESSES = 20
SECRET = "bench-signing-secret"
INCIDENT = {
    "title": "Benchmark: checkout slow",
    "service": "shop",
    "category": "software/web",
    "impact": "medium",
    "urgency": "medium",
    "reporter": "bench",
}


def _log_incidents(api_url: str, count: int) -> None:
    with httpx.Client(base_url=api_url, timeout=10) as api:
        deployment = call(api, "GET", "/deployments/name/log-incident/log-incident").json()
        runs = [
            call(
                api,
                "POST",
                f"/deployments/{deployment['id']}/create_flow_run",
                json={"parameters": {"incident": INCIDENT | {"title": f"{INCIDENT['title']} {i}"}}},
            ).json()["id"]
            for i in range(count)
        ]
        for run in runs:
            while call(api, "GET", f"/flow_runs/{run}").json()["state"]["type"] != "COMPLETED":
                time.sleep(0.5)


def _press(gateway: str, number: str) -> float:
    value = json.dumps({"number": number, "step": "acknowledge-incident"})
    payload = {
        "type": "block_actions",
        "user": {"id": "U0BENCH", "username": "bench"},
        "actions": [{"action_id": "incident_step:acknowledge-incident", "value": value}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign_slack(SECRET, stamp, body),
    }
    started = time.perf_counter()
    answer = httpx.post(f"{gateway}/slack/interactions", content=body, headers=headers, timeout=10)
    assert "starting" in answer.json()["text"], answer.text
    return time.perf_counter() - started


def _updated(slack: FakeSlack, ts: str) -> bool:
    return any(call["params"].get("ts") == ts for call in slack.calls_to("chat.update"))


def main() -> None:
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as state:
        os.environ |= {
            "SERVICEOPS_SLACK_TOKEN": "xoxb-test",
            "SERVICEOPS_SLACK_BASE_URL": slack.base_url,
            "SERVICEOPS_SLACK_SIGNING_SECRET": SECRET,
        }
        settings = Settings(
            state_dir=Path(state), prefect_port=free_port(), gateway_port=free_port()
        )
        stack = Stack(settings)
        try:
            stack.up()
            sessions = sessions_for(settings.resolved_database_url)
            with sessions.begin() as session:
                IdentityRepository(session).upsert(Identity(user="bench", slack_user_id="U0BENCH"))
            _log_incidents(settings.prefect_api_url, PRESSES)
            logged = {
                m["text"].split(" ", 1)[0]: m["ts"]
                for m in slack.messages
                if " logged " in m["text"]
            }
            gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
            answers, done = [], []
            for number, ts in sorted(logged.items())[:PRESSES]:
                started = time.perf_counter()
                answers.append(_press(gateway, number))
                deadline = time.monotonic() + 120
                while True:
                    with sessions.begin() as session:
                        acked = IncidentRepository(session).get(number).acknowledged_at
                    if acked is not None and _updated(slack, ts):
                        break
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{number}: acknowledged {acked}, updated no")
                    time.sleep(0.05)
                done.append(time.perf_counter() - started)
        finally:
            stack.down()
    print(f"Slack press to acknowledged and message updated, {len(done)} presses, make up's stack")
    for label, samples in (("answer to Slack", answers), ("acknowledged+updated", done)):
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        median = statistics.median(ordered)
        print(f"  {label:<22} p50 {median:6.2f} s  p95 {p95:6.2f} s")


if __name__ == "__main__":
    main()
