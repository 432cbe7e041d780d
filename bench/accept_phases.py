"""One webhook accept, step by step: the record, the Prefect client, reading the deployment,
creating the run, noting it; each step timed on its own, as intake.asubmit runs them."""

import asyncio
import time
from datetime import UTC, datetime

from bench.stack_run import SOURCE

PHASES = ("record", "Prefect client", "read deployment", "create_flow_run", "note run")


async def _phases_async(database_url: str, body: bytes, samples: int) -> dict[str, list[float]]:
    from serviceops.application import intake
    from serviceops.application.prefect_api import prefect_client
    from serviceops.domain.provenance import Channel, Provenance
    from serviceops.domain.request import RequestSubmission
    from serviceops.store.db import sessions_for

    sessions = sessions_for(database_url)
    submission = RequestSubmission.model_validate_json(body)
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    for i in range(samples + 1):  # the first one warms up: not counted
        key, at = f"phases-{i}", datetime.now(UTC)
        t0 = time.perf_counter()
        known = Provenance(via=Channel.TOKEN, ref=SOURCE)
        accepted = intake.accept(sessions, submission, source=SOURCE, key=key, at=at, known=known)
        t1 = time.perf_counter()
        number = accepted.body["number"]
        async with prefect_client() as client:
            t2 = time.perf_counter()
            deployment = await client.read_deployment_by_name(intake.FULFIL_REQUEST)
            t3 = time.perf_counter()
            run = await client.create_flow_run_from_deployment(
                deployment.id,
                parameters={"request": submission.model_dump(mode="json"), "number": number},
                idempotency_key=accepted.run_key,
            )
            t4 = time.perf_counter()
        intake.record_flow_run(sessions, accepted, str(run.id), source=SOURCE, key=key)
        t5 = time.perf_counter()
        if i:
            for name, spent in zip(
                PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True
            ):
                phases[name].append(spent)
    return phases


def accept_phases(
    api_url: str, database_url: str, body: bytes, samples: int
) -> dict[str, list[float]]:
    """The accept path's steps one at a time, in this process, as intake.asubmit runs them."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        return asyncio.run(_phases_async(database_url, body, samples))
