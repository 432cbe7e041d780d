"""The hand-over to process-events: with nobody watching, many kicks request one run per slot,
and a running watch means none is requested (on a real Prefect server); with Prefect down,
intake still records."""

import asyncio
import contextlib
import time
from uuid import UUID

from fastapi.testclient import TestClient
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound
from prefect.states import Running
from sqlalchemy.orm import Session, sessionmaker

from serviceops.gateway.event_runs import PROCESS_EVENTS, ProcessingKicker, slot_of
from tests.unit.event_intake.support import AM_AUTH, am_alert, am_payload, events

# --------------------------------------------------------------------------- hand-over


@flow(name="process-events")
def stand_in_process_events(watch_seconds: float = 0, max_batches: int = 100) -> None:
    """Never runs: the kicker only needs a deployment of that name."""


def _stand_in_deployment() -> UUID:
    """A process-events deployment of the stand-in, new: another test on this server (the
    routine runner's) may have registered the real one, whose schedule would keep runs due."""
    with get_client(sync_client=True) as prefect, contextlib.suppress(ObjectNotFound):
        prefect.delete_deployment(prefect.read_deployment_by_name(PROCESS_EVENTS).id)
    return stand_in_process_events.to_deployment(name="process-events").apply()


def _kick(prefect_server: str, times: int, slot_s: float) -> ProcessingKicker:
    async def kick_many() -> ProcessingKicker:
        kicker = ProcessingKicker(prefect_server, slot_s=slot_s)
        for _ in range(times):
            kicker.kick()
            await asyncio.sleep(0.01)
        await kicker.drain()
        return kicker

    return asyncio.run(kick_many())


def _runs_of(deployment_id: UUID) -> list[FlowRun]:
    with get_client(sync_client=True) as prefect:
        return prefect.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )


def _delete_runs(deployment_id: UUID) -> None:
    with get_client(sync_client=True) as prefect:
        for run in _runs_of(deployment_id):
            prefect.delete_flow_run(run.id)


def test_with_no_watcher_thirty_kicks_request_one_run(prefect_server: str) -> None:
    """Kicks a few milliseconds apart over slots of 0.1 s: the first finds nobody watching
    and requests a run due now, keyed by its slot; every later check finds that run due and
    requests nothing, however many slots the kicks spanned."""
    deployment_id = _stand_in_deployment()
    _delete_runs(deployment_id)
    first = slot_of(time.time(), 0.1)
    kicker = _kick(prefect_server, 30, slot_s=0.1)
    last = slot_of(time.time(), 0.1)
    runs = _runs_of(deployment_id)
    _delete_runs(deployment_id)
    assert kicker.checks >= 2, "the kicks spanned several slots, each checked"
    assert kicker.runs_requested == 1 and len(runs) == 1
    (run,) = runs
    assert run.state is not None and run.state.is_scheduled()
    slot = int((run.idempotency_key or "").removeprefix("process-events-"))
    assert first <= slot <= last


def test_a_running_watch_means_no_run_is_requested(prefect_server: str) -> None:
    deployment_id = _stand_in_deployment()
    _delete_runs(deployment_id)
    with get_client(sync_client=True) as prefect:
        watching = prefect.create_flow_run_from_deployment(deployment_id)
        prefect.set_flow_run_state(watching.id, Running(), force=True)
    kicker = _kick(prefect_server, 10, slot_s=0.1)
    runs = _runs_of(deployment_id)
    _delete_runs(deployment_id)
    assert kicker.checks >= 1 and kicker.runs_requested == 0
    assert [run.id for run in runs] == [watching.id]


def test_prefect_down_still_records(client: TestClient, sessions: sessionmaker[Session]) -> None:
    response = client.post("/webhooks/alertmanager", json=am_payload(am_alert()), headers=AM_AUTH)
    assert response.status_code == 202 and len(events(sessions)) == 1
