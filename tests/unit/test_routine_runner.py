"""The routine runner on a real Prefect server (the harness): it runs a deployment's scheduled
runs in threads of its own process, each run once even with two runners, a failing run
fails alone, and stopping pauses its deployments."""

import os
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.states import Scheduled

from deployments.definitions import Definition, Process
from deployments.routine import RoutineRunner
from serviceops.stopping import STOPPING

RAN: list[tuple[str, int, str]] = []


@flow(name="routine-probe")
def routine_probe(label: str = "probe") -> str:
    """Records where it ran: the runner's process, a thread that is not the main one."""
    RAN.append((label, os.getpid(), threading.current_thread().name))
    if label == "fail":
        raise RuntimeError("the probe was asked to fail")
    return label


@pytest.fixture
def client(prefect_server: str) -> Iterator[SyncPrefectClient]:
    RAN.clear()
    with get_client(sync_client=True) as prefect:
        yield prefect


def _runner() -> RoutineRunner:
    probe = Definition(
        routine_probe, "routine-probe", interval=timedelta(hours=1), process=Process.OPERATIONS
    )
    runner = RoutineRunner([probe])
    runner.register()
    return runner


def _due_run(client: SyncPrefectClient, runner: RoutineRunner, label: str) -> str:
    (deployment_id,) = runner.flows
    run = client.create_flow_run_from_deployment(
        deployment_id, parameters={"label": label}, state=Scheduled()
    )
    return str(run.id)


def test_a_due_run_runs_in_a_thread_of_the_runner_once_with_two_runners(
    client: SyncPrefectClient,
) -> None:
    first, second = _runner(), _runner()
    run_id = _due_run(client, first, "once")
    started = first.claim_due(client) + second.claim_due(client)
    assert first.wait(60) and second.wait(60)
    assert [str(s) for s in started].count(run_id) == 1
    assert [(label, pid) for label, pid, _ in RAN] == [("once", os.getpid())]
    assert RAN[0][2].startswith("run-"), "a runner thread, not the caller's"
    state = client.read_flow_run(run_id).state
    assert state is not None and state.type == StateType.COMPLETED


def test_a_failing_run_fails_alone_and_the_runner_goes_on(client: SyncPrefectClient) -> None:
    runner = _runner()
    failing, fine = _due_run(client, runner, "fail"), _due_run(client, runner, "fine")
    runner.claim_due(client)
    assert runner.wait(60)
    states = {run_id: client.read_flow_run(run_id).state for run_id in (failing, fine)}
    assert states[failing] is not None and states[failing].type == StateType.FAILED
    assert states[fine] is not None and states[fine].type == StateType.COMPLETED
    assert sorted(label for label, _, _ in RAN) == ["fail", "fine"]


def test_stopping_pauses_the_deployments_and_registering_resumes_them(
    client: SyncPrefectClient,
) -> None:
    runner = _runner()
    (deployment_id,) = runner.flows
    STOPPING.set()
    try:
        runner.run()  # stops at once: nothing in flight, deployments paused
    finally:
        STOPPING.clear()
    assert client.read_deployment(deployment_id).paused
    _runner()
    assert not client.read_deployment(deployment_id).paused
