"""The desk in a real browser against the stack `make up` started: log-incident's form filled
in with clicks (the service picked from the catalogue's select), its run COMPLETED, the
incident on the `service-desk` board with a link that opens its Acknowledge form with the
number filled in; a catalogue item requested from its own form and fulfilled. A failing test
leaves a screenshot in its tmp dir (named in the error)."""

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from serviceops.prefect_rest import call
from tests.e2e.browser_support import browser_page, pick, submit, type_into
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e

TITLE = "Label printer jams on every job"


def _deployment_id(stack: RunningStack, name: str) -> str:
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        return str(call(api, "GET", f"/deployments/name/{name}/{name}").json()["id"])


def _run_of(stack: RunningStack, deployment_id: str, matches: Any, timeout: float = 180) -> dict:
    """The run of the deployment whose parameters `matches`, once it is final."""
    query = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_DESC"}
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        while time.monotonic() < deadline:
            runs = call(api, "POST", "/flow_runs/filter", json=query).json()
            mine = [run for run in runs if matches(run["parameters"])]
            if mine and mine[0]["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED"}:
                return mine[0]
            time.sleep(1)
    raise AssertionError(f"no finished run of {deployment_id} matching after {timeout} s")


def _api(stack: RunningStack, path: str) -> Any:
    headers = {"Authorization": f"Bearer {stack.token}"}
    response = httpx.get(f"{stack.gateway_url}{path}", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_log_an_incident_from_the_form_and_find_it_on_the_board(
    stack: RunningStack, tmp_path: Path
) -> None:
    log_incident = _deployment_id(stack, "log-incident")
    with browser_page(tmp_path) as page:
        page.goto(f"{stack.ui_url}/deployments/deployment/{log_incident}/run")
        type_into(page, "Title", TITLE)
        pick(page, "Service (CI)", "printing")
        pick(page, "Category", "hardware/printer")
        pick(page, "Impact", "low")
        pick(page, "Urgency", "medium")
        type_into(page, "Reporter", "erin")
        submit(page)
        run = _run_of(stack, log_incident, lambda p: p["incident"]["title"] == TITLE)
        assert run["state"]["type"] == "COMPLETED", run["state"]
        assert run["parameters"]["incident"]["service"] == "printing"
        (incident,) = [
            i for i in _api(stack, "/api/v1/incidents")["incidents"] if i["title"] == TITLE
        ]
        number = incident["number"]
        logged = _api(stack, f"/api/v1/incidents/{number}")["audit"][0]
        assert (logged["actor"], logged["via"]) == ("erin", "form")  # a typed name, unvouched

        page.goto(f"{stack.ui_url}/artifacts/key/service-desk")  # its versions, newest first
        page.locator("a[href*='/artifacts/artifact/']").first.click()
        page.get_by_text(number).first.wait_for()
        acknowledge = page.locator(f"a[href*='{number}']", has_text="Acknowledge").first
        href = acknowledge.get_attribute("href")
        assert href is not None and "/run?parameters=" in href
        page.goto(href)
        number_input = page.locator(".schema-form-property", has_text="Incident number").last
        assert number_input.locator("textarea, input").first.input_value() == number


def test_request_a_catalogue_item_from_its_own_form(stack: RunningStack, tmp_path: Path) -> None:
    install = _deployment_id(stack, "request-software-install")
    with browser_page(tmp_path) as page:
        page.goto(f"{stack.ui_url}/deployments/deployment/{install}/run")
        type_into(page, "requester", "quentin")
        type_into(page, "Software", "Inkscape")
        type_into(page, "Host", "pc-42")
        type_into(page, "Licence cost", "0")
        submit(page)
        run = _run_of(stack, install, lambda p: p["details"].get("software") == "Inkscape")
    assert run["state"]["type"] == "COMPLETED", run["state"]
    assert run["parameters"]["details"]["licence_cost"] == 0
    requests = _api(stack, "/api/v1/requests?requester=quentin")["requests"]
    assert [(r["type"], r["state"]) for r in requests] == [("software_install", "closed")]
