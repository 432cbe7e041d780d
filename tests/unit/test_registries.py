"""The registries walked: every transition command of incidents and problems names a flow
that takes exactly that command, the flow has a deployment, and an incident command has its
step in the lifecycle (problems change through one generic step); every kind of check has its
model, schedule, probe and deployment; every fulfilment step its task. The CLI verbs are
walked in cli/incidents/test_cli_commands.py and cli/problems/test_cli_problems_runs.py. A new
entry that misses one fails here."""

from typing import Any

import pytest
from prefect import Flow
from pydantic import BaseModel, TypeAdapter

from deployments.definitions import definitions
from flows.incident.transitions import TRANSITION_FLOWS
from flows.problem.lifecycle import PROBLEM_FLOWS
from serviceops.domain.cmdb import (
    CHECK_MODELS,
    DEFAULT_SCHEDULES,
    MODEL_OF_KIND,
    Check,
    CheckKind,
)
from serviceops.domain.incident import IncidentCommand
from serviceops.domain.incident import steps as incident_steps
from serviceops.domain.problem import ProblemCommand
from serviceops.domain.request import CATALOGUE_TYPES, FulfilmentStep, RequestPolicy
from serviceops.probes import PROBES
from tasks.fulfilment_steps import STEPS as FULFILMENT_STEPS
from tasks.fulfilment_steps import WORK_ORDERS

PROCESSES: list[tuple[type[BaseModel], tuple[Flow[Any, Any], ...]]] = [
    (IncidentCommand, TRANSITION_FLOWS),
    (ProblemCommand, PROBLEM_FLOWS),
]


@pytest.mark.parametrize(("base", "flows"), PROCESSES, ids=["incident", "problem"])
def test_each_command_has_one_flow_that_takes_it_and_a_deployment(
    base: type[BaseModel], flows: tuple[Flow[Any, Any], ...]
) -> None:
    commands = base.__subclasses__()
    flow_names = [command.flow_name for command in commands]  # type: ignore[attr-defined]
    assert len(set(flow_names)) == len(commands), "two commands name one flow"
    by_name = {flow.name: flow for flow in flows}
    assert sorted(by_name) == sorted(flow_names), "a flow without a command, or the reverse"
    for command in commands:
        taken = by_name[command.flow_name].fn.__annotations__["command"]  # type: ignore[attr-defined]
        assert taken is command, f"{command.flow_name} takes {taken.__name__}"
    deployed = {definition.full_name for definition in definitions()}
    assert {f"{name}/{name}" for name in flow_names} <= deployed


def test_each_incident_command_has_its_step() -> None:
    assert set(incident_steps.STEPS) == set(IncidentCommand.__subclasses__())


def test_each_kind_of_check_has_one_model_a_schedule_and_a_probe() -> None:
    """A kind of check is its model in CHECK_MODELS (and so in the catalogue's union, its
    default schedule and its deployment) and its probe in PROBES."""
    kinds = [model.model_fields["kind"].default for model in CHECK_MODELS]
    assert kinds == [kind.value for kind in CheckKind]
    assert set(DEFAULT_SCHEDULES) == set(CheckKind)
    assert all(DEFAULT_SCHEDULES[CheckKind(k)] == MODEL_OF_KIND[k].every_s for k in kinds)
    assert set(PROBES) == set(CHECK_MODELS)
    union = TypeAdapter(Check).json_schema()["discriminator"]["mapping"]
    assert sorted(union) == sorted(kinds)
    deployed = {definition.name for definition in definitions()}
    assert {f"{kind}-checks" for kind in kinds} <= deployed


def test_each_fulfilment_step_a_request_type_names_has_its_handler() -> None:
    """Every step is carried out by a task; every work order goes to a team by default."""
    named = {step for item in CATALOGUE_TYPES for step in item.fulfilment}
    assert named == set(FulfilmentStep), "a step no request type uses, or the reverse"
    assert set(FULFILMENT_STEPS) == set(FulfilmentStep)
    assert set(WORK_ORDERS) <= set(RequestPolicy().work_order_channels)
