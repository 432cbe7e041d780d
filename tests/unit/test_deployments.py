"""The deployments: prefect.yaml (production) is what the definitions (make up) write, on the
catalogue's schedules, and every flow's parameters render as a described form in the Prefect
UI."""

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import Flow
from prefect.utilities.callables import parameter_schema

from deployments.definitions import (
    CHECK_FLOW,
    DAILY_AT_SIX,
    DAILY_FLOWS,
    EVENT_FLOW,
    EVENT_WATCH_S,
    EVERY_HOUR,
    EVERY_MINUTE,
    EVERY_MINUTE_FLOWS,
    HOURLY_FLOWS,
    ON_DEMAND,
    REPORT_FLOW,
    REPORT_SCHEDULES,
    SCHEDULED,
    Process,
    definitions,
)
from deployments.prefect_yaml import CATALOGUE, render
from deployments.prefect_yaml import main as write_prefect_yaml
from serviceops import deployment_names as names
from serviceops.catalogue_file import load_catalogue_file
from serviceops.domain.cmdb import DEFAULT_SCHEDULES, CheckKind
from serviceops.domain.report import ReportKind
from serviceops.domain.request import CATALOGUE_TYPES, RequestItem

ROOT = Path(__file__).resolve().parents[2]


def _prefect_yaml() -> list[dict[str, Any]]:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


def _load_entrypoint(entrypoint: str) -> Flow:
    path, _, name = entrypoint.partition(":")
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_prefect_yaml_is_what_the_definitions_write() -> None:
    """Edited by hand or left behind by a change to the definitions: run
    `python -m deployments.prefect_yaml` and commit the file."""
    schedules = load_catalogue_file(CATALOGUE).schedules
    assert (ROOT / "prefect.yaml").read_text() == render(schedules)


def test_the_catalogue_schedules_reach_prefect_deploy_as_they_reach_make_up(
    tmp_path: Path,
) -> None:
    text = CATALOGUE.read_text()
    start = text.index("[schedules]")
    end = text.index("[[items]]", start)
    catalogue = tmp_path / "cmdb.toml"
    catalogue.write_text(f"{text[:start]}[schedules]\nhttp = 120\ntls = 86400\n\n{text[end:]}")
    written = tmp_path / "prefect.yaml"
    write_prefect_yaml([str(catalogue), "--output", str(written)])
    deployed = {d["name"]: d for d in yaml.safe_load(written.read_text())["deployments"]}
    served = {d.name: d for d in definitions(load_catalogue_file(catalogue).schedules)}
    for name, seconds in {"http-checks": 120, "tls-checks": 86400, "tcp-checks": 300}.items():
        assert deployed[name]["schedules"] == [{"interval": seconds}]
        interval = served[name].interval
        assert interval is not None and interval.total_seconds() == seconds


def test_prefect_yaml_deploys_exactly_the_served_deployments() -> None:
    deployed = {d["name"]: d for d in _prefect_yaml()}
    served = {definition.name: definition for definition in definitions()}
    assert sorted(deployed) == sorted(served)
    for name, deployment in deployed.items():
        flow = _load_entrypoint(deployment["entrypoint"])
        assert flow.name == served[name].flow.name, f"{deployment['entrypoint']} is not {name}"
        assert deployment.get("parameters", {}) == served[name].parameters
        assert deployment["work_pool"]["name"] == "serviceops"
        assert "serviceops" in deployment["tags"]


def test_every_kind_of_check_is_deployed_on_the_catalogue_schedule() -> None:
    deployed = {d["name"]: d for d in _prefect_yaml()}
    for kind in CheckKind:
        assert deployed[f"{kind.value}-checks"]["schedules"] == [
            {"interval": DEFAULT_SCHEDULES[kind]}
        ]
    tuned = {d.name: d for d in definitions({CheckKind.TLS: 86400})}
    assert tuned["tls-checks"].interval is not None
    assert tuned["tls-checks"].interval.total_seconds() == 86400
    default = {d.name: d for d in definitions()}
    assert tuned["http-checks"].interval == default["http-checks"].interval
    assert all(d.flow is CHECK_FLOW for d in definitions() if d.name.endswith("-checks"))


def test_schedules_are_the_same_in_both() -> None:
    deployed = {d["name"]: d for d in _prefect_yaml()}
    for flow in EVERY_MINUTE_FLOWS:
        assert deployed[flow.name]["schedules"] == [{"interval": EVERY_MINUTE.total_seconds()}]
    watch = deployed[EVENT_FLOW.name]
    assert watch["schedules"] == [{"interval": EVERY_MINUTE.total_seconds()}]
    assert watch["parameters"] == {"watch_seconds": EVENT_WATCH_S}
    for flow in HOURLY_FLOWS:
        assert deployed[flow.name]["schedules"] == [{"interval": EVERY_HOUR.total_seconds()}]
    for flow in DAILY_FLOWS:
        assert deployed[flow.name]["schedules"] == [{"cron": DAILY_AT_SIX}]
    for flow in ON_DEMAND:
        assert "schedules" not in deployed[flow.name]


def test_the_ops_report_is_deployed_daily_and_weekly_at_six() -> None:
    deployed = {d["name"]: d for d in _prefect_yaml()}
    served = {d.name: d for d in definitions()}
    expected = {"daily-report": "0 6 * * *", "weekly-report": "0 6 * * 1"}
    assert {kind.value: cron for kind, cron in REPORT_SCHEDULES.items()} == {
        "daily": "0 6 * * *",
        "weekly": "0 6 * * 1",
    }
    for name, cron in expected.items():
        kind = ReportKind(name.removesuffix("-report"))
        assert deployed[name]["schedules"] == [{"cron": cron}]
        assert deployed[name]["parameters"] == {"kind": kind.value}
        assert served[name].flow is REPORT_FLOW and served[name].cron == cron
        assert served[name].full_name == f"ops-report/{name}"


@pytest.mark.parametrize("flow", ON_DEMAND, ids=lambda f: f.name)
def test_every_form_field_has_a_title_and_a_description(flow: Flow) -> None:
    schema = parameter_schema(flow.fn).model_dump()
    assert schema["required"], "on-demand flows take one typed model"
    for model in schema["definitions"].values():
        for field, spec in model.get("properties", {}).items():
            # An enum field is a $ref; the UI titles it from the field name and the enum.
            assert spec.get("title") or "$ref" in spec, f"{flow.name}: {field} has no title"
            assert spec.get("description"), f"{flow.name}: {field} has no description"


@pytest.mark.parametrize("flow", ON_DEMAND + SCHEDULED, ids=lambda f: f.name)
def test_every_parameter_is_described(flow: Flow) -> None:
    """The form shows each parameter's title (its name, unless it sets one) and description."""
    for name, spec in parameter_schema(flow.fn).model_dump()["properties"].items():
        assert spec["title"], f"{flow.name}: parameter {name} has no title"
        assert spec.get("description"), f"{flow.name}: parameter {name} has no description"


def _union_of_models(spec: dict[str, Any]) -> bool:
    """What the Prefect UI can only offer as a JSON editor: a choice between objects."""
    options = spec.get("anyOf") or spec.get("oneOf") or []
    return "discriminator" in spec or any("$ref" in option for option in options)


@pytest.mark.parametrize("item", CATALOGUE_TYPES, ids=lambda item: item.type_name())
def test_every_catalogue_item_has_a_form_of_its_own_fields(item: type[RequestItem]) -> None:
    flow_name = names.request_item_flow(item.type_name())
    (flow,) = [flow for flow in ON_DEMAND if flow.name == flow_name]
    schema = parameter_schema(flow.fn).model_dump()
    assert schema["properties"]["details"]["$ref"] == f"#/definitions/{item.__name__}"
    fields = schema["definitions"][item.__name__]["properties"]
    assert list(fields) == list(item.model_fields)
    for field, spec in [*schema["properties"].items(), *fields.items()]:
        assert not _union_of_models(spec), f"{flow_name}: {field} would be a JSON editor"


def test_every_deployment_is_tagged_with_its_process() -> None:
    for definition in definitions():
        processes = [tag for tag in definition.tags if tag in set(Process)]
        assert processes == [definition.itil_process.value], definition.full_name
    tagged = {d.full_name: d.itil_process for d in definitions()}
    assert tagged["request-vpn-access/request-vpn-access"] == Process.ACCESS
    assert tagged["request-new-laptop/request-new-laptop"] == Process.REQUEST
    assert tagged["run-checks/http-checks"] == Process.EVENT
    assert set(tagged.values()) == set(Process)


@pytest.mark.parametrize("flow", SCHEDULED, ids=lambda f: f.name)
def test_scheduled_flows_need_no_parameter(flow: Flow) -> None:
    """A schedule's run crashes on a required parameter without a default."""
    assert not parameter_schema(flow.fn).model_dump().get("required")


def test_one_run_a_minute_keeps_the_desk_and_one_is_always_watching_events() -> None:
    """Housekeeping is the one every-minute deployment; event management's watch outlasts the
    minute between two starts, so the next watcher starts before the last one stops."""
    every_minute = [d for d in definitions() if d.interval == EVERY_MINUTE]
    assert sorted(d.name for d in every_minute) == ["housekeeping", "process-events"]
    assert EVERY_MINUTE.total_seconds() < EVENT_WATCH_S
