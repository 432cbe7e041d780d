"""Accepting a service request for fulfilment: record first, start the flow run after.

Used by the webhook and by the CLI, so both give the same answer to the same submission.

Why in this order: the contract is that nothing accepted is lost, also while the Prefect API
is down. So acceptance is one database transaction (claim the delivery key, record the
request and its audit row, store the answer), and only after it commits does the gateway try
to start fulfil-request. If that fails the request stays recorded with no flow run, and the
every-minute `housekeeping` starts it later with the same Prefect idempotency
key, so a run the gateway did create but failed to note is found rather than duplicated.

A repeat delivery (same Idempotency-Key, or same payload id, from the same source) gets the
first delivery's stored answer back unchanged, never a 409, and starts nothing. So does a
webhook delivery whose signature was seen before, whatever its key (`signature_key`, see
serviceops.gateway.signatures): both keys are claimed in the one transaction.
"""

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from serviceops import deployment_names as names
from serviceops.application.prefect_api import prefect_client
from serviceops.deployment_names import deployment
from serviceops.domain.provenance import Provenance
from serviceops.domain.request import RequestSubmission, ServiceRequest, fulfilment
from serviceops.store.audit import AuditRepository
from serviceops.store.request import DeliveryRepository, RequestRepository

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

logger = logging.getLogger(__name__)

FULFIL_REQUEST = deployment(names.FULFIL_REQUEST)
ACCEPTED = 202
START_TIMEOUT_S = 5.0
# Two deliveries racing for one key: the loser's insert may fail instead of waiting; its
# retry then finds the winner's answer.
_CLAIM_ATTEMPTS = 3


class Accepted(BaseModel):
    """The answer to a submission. `first` is False for a repeat, which starts nothing;
    `run_key` is the Prefect idempotency key of the request's run and `signature_key` the
    delivery key remembering its signature, if signed (first delivery only)."""

    status: int
    body: dict[str, Any]
    first: bool
    run_key: str | None = None
    signature_key: str | None = None


def answer_body(request: ServiceRequest) -> dict[str, Any]:
    """`{"number", "state", "flow_run_id"}`: what a 202 carries (flow_run_id null until known)."""
    return {
        "number": request.number,
        "state": request.state.value,
        "flow_run_id": request.flow_run_id,
    }


def _accept_in(
    session: Session,
    submission: RequestSubmission,
    source: str,
    keys: tuple[str | None, str | None],
    at: datetime,
    known: Provenance,
) -> Accepted:
    """`keys`: the signature's delivery key and the delivery's own key, in that order;
    `known`: how the requester was known (the source's signature, the CLI's OS user)."""
    deliveries = DeliveryRepository(session)
    stored = deliveries.claim_all(source, keys, at)
    if stored is not None:
        return Accepted(status=stored.status, body=stored.body, first=False)
    requests = RequestRepository(session)
    existing = requests.find_external(source, submission.id) if submission.id else None
    if existing is not None:  # same payload id under another delivery key: same request
        accepted = Accepted(status=ACCEPTED, body=answer_body(existing), first=False)
    else:
        request = requests.add(submission, source=source, at=at)
        AuditRepository(session).add(fulfilment.submitted(request).known_through(known))
        accepted = Accepted(
            status=ACCEPTED,
            body=answer_body(request),
            first=True,
            run_key=request.run_key,
            signature_key=keys[0],
        )
    deliveries.answer_all(source, keys, accepted.status, accepted.body)
    return accepted


def accept(
    sessions: sessionmaker[Session],
    submission: RequestSubmission,
    *,
    source: str,
    key: str | None,
    at: datetime,
    known: Provenance,
    signature_key: str | None = None,
) -> Accepted:
    """Record `submission` from `source` in one transaction, or return the first answer.

    `key` is the delivery's Idempotency-Key; without one, the payload's own id is the key.
    `signature_key` remembers a signed delivery's signature (the webhook's; the CLI has none).
    """
    keys = (signature_key, key or submission.id)
    for attempt in range(1, _CLAIM_ATTEMPTS + 1):
        try:
            with sessions.begin() as session:
                return _accept_in(session, submission, source, keys, at, known)
        except IntegrityError:
            if keys == (None, None) or attempt == _CLAIM_ATTEMPTS:
                raise
            logger.info("delivery %s/%s raced another; reading its answer", source, keys)
    raise AssertionError("unreachable")


async def create_run(
    client: "PrefectClient", number: str, run_key: str, submission: RequestSubmission
) -> str:
    """Create (or find, by its idempotency key) the fulfil-request run of one request."""
    deployment = await client.read_deployment_by_name(FULFIL_REQUEST)
    run = await client.create_flow_run_from_deployment(
        deployment.id,
        parameters={"request": submission.model_dump(mode="json"), "number": number},
        idempotency_key=run_key,
    )
    return str(run.id)


async def start_fulfilment(
    number: str,
    run_key: str,
    submission: RequestSubmission,
    *,
    client: "PrefectClient | None" = None,
    api_url: str | None = None,
    timeout_s: float | None = None,
) -> str | None:
    """The id of the fulfil-request run for `number`, or None when Prefect cannot be reached
    in `timeout_s` (default START_TIMEOUT_S; down, busy, not configured, deployment missing):
    logged, never raised, because the request is recorded and the upkeep will start it.
    `client` reuses an open client (the gateway's starter); else one is opened for the call."""
    timeout_s = START_TIMEOUT_S if timeout_s is None else timeout_s

    async def create() -> str:
        if client is not None:
            return await create_run(client, number, run_key, submission)
        async with prefect_client(api_url) as own:
            return await create_run(own, number, run_key, submission)

    try:
        return await asyncio.wait_for(create(), timeout_s)
    except TimeoutError:
        reason = f"no answer within {timeout_s:g} s"
    except Exception as exc:  # any failure of the call leaves the request for the upkeep
        reason = f"{type(exc).__name__}: {str(exc)[:300]}"
    logger.warning("%s recorded; fulfil-request not started now (%s)", number, reason)
    return None


def record_flow_run(
    sessions: sessionmaker[Session],
    accepted: Accepted,
    flow_run_id: str,
    *,
    source: str,
    key: str | None,
) -> Accepted:
    """Note the run on the request and in the stored answers (under the key and the
    signature), so a repeat delivery or a replay sees it.

    A run id already on the request wins (the flow notes its own id too; with the shared
    idempotency key it is the same run).
    """
    number = accepted.body["number"]
    with sessions.begin() as session:
        requests = RequestRepository(session)
        request = requests.get(number, for_update=True)
        if request.flow_run_id is None:
            request = requests.save(request.model_copy(update={"flow_run_id": flow_run_id}))
        body = accepted.body | {"flow_run_id": request.flow_run_id}
        keys = (accepted.signature_key, key)
        DeliveryRepository(session).answer_all(source, keys, accepted.status, body)
    return accepted.model_copy(update={"body": body})


async def asubmit(
    sessions: sessionmaker[Session],
    submission: RequestSubmission,
    *,
    source: str,
    key: str | None,
    at: datetime,
    known: Provenance,
    api_url: str | None = None,
) -> Accepted:
    """accept, then (first delivery only) start fulfilment and note the run; for async callers.

    The database work runs in worker threads: the session API is synchronous.
    """
    key = key or submission.id
    accepted = await anyio.to_thread.run_sync(
        lambda: accept(sessions, submission, source=source, key=key, at=at, known=known)
    )
    if not accepted.first:
        return accepted
    return await start_and_note(sessions, accepted, submission, source=source, key=key,
                                api_url=api_url)  # fmt: skip


async def start_and_note(
    sessions: sessionmaker[Session],
    accepted: Accepted,
    submission: RequestSubmission,
    *,
    source: str,
    key: str | None,
    client: "PrefectClient | None" = None,
    api_url: str | None = None,
) -> Accepted:
    """Start the first delivery's run and note it on the request and the stored answer."""
    number, run_key = accepted.body["number"], accepted.run_key
    if run_key is None:  # a repeat: the first delivery started (or will start) the run
        return accepted
    flow_run_id = await start_fulfilment(
        number, run_key, submission, client=client, api_url=api_url
    )
    if flow_run_id is None:
        return accepted
    try:
        return await anyio.to_thread.run_sync(
            lambda: record_flow_run(sessions, accepted, flow_run_id, source=source, key=key)
        )
    except Exception:  # the run exists and notes itself on the request when it starts
        logger.exception("%s: run %s started but not noted", number, flow_run_id)
        return accepted.model_copy(update={"body": accepted.body | {"flow_run_id": flow_run_id}})


def submit(
    sessions: sessionmaker[Session],
    submission: RequestSubmission,
    *,
    source: str,
    key: str | None,
    at: datetime,
    known: Provenance,
    api_url: str | None = None,
) -> Accepted:
    """The same as `asubmit`, for synchronous callers (the CLI)."""
    return asyncio.run(
        asubmit(sessions, submission, source=source, key=key, at=at, known=known, api_url=api_url)
    )
