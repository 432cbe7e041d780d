"""`POST /webhooks/requests`: a portal or chat bot submits a service request.

Checks run cheapest first and before any parsing: a known source, a body within 1 MiB, a valid
signature over the raw bytes; only then is the body parsed (strict JSON that can be stored
and read back, see payload.load_json; the catalogue model). Accepted work answers 202
`{"number", "state", "flow_run_id"}`; a repeat delivery, or a replay of a signature already
seen (whatever its Idempotency-Key), answers the first delivery's answer again (never 409).
"""

import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from serviceops.application import intake
from serviceops.domain.provenance import Channel, Provenance
from serviceops.domain.request import RequestSubmission
from serviceops.gateway.payload import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    PayloadError,
    check_idempotency_key,
    load_json,
    read_body,
    validation_errors,
)
from serviceops.gateway.signatures import SignatureError, seen_key, verify_serviceops
from serviceops.gateway.starter import RunStarter, StartJob
from serviceops.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_ANSWERS: dict[int | str, dict[str, Any]] = {
    202: {"description": 'Accepted: `{"number", "state", "flow_run_id"}` (or the first answer)'},
    401: {"description": "Unknown source, or a missing, malformed, stale or bad signature"},
    413: {"description": "Body over 1 MiB"},
    422: {"description": "Invalid payload; `loc` names the field"},
}


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason)


def _unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def secrets_of(settings: Settings, source: str | None) -> list[str]:
    if not source:
        raise _unauthorized("missing X-ServiceOps-Source header")
    secrets = settings.webhook_secrets.get(source)
    if not secrets or len(source) > 50:
        raise _unauthorized("unknown source")
    return [secret.get_secret_value() for secret in secrets]


def verified(
    secrets: list[str],
    source: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
) -> str:
    """The delivery key remembering this delivery's signature (signatures.seen_key), or 401."""
    try:
        digest = verify_serviceops(secrets, timestamp, signature, body, time.time())
    except SignatureError as exc:
        logger.warning("webhook from %s refused: %s", source, exc.reason)
        raise _unauthorized(exc.reason) from None
    return seen_key(digest)


def _submission(body: bytes) -> RequestSubmission:
    """The validated submission, or PayloadError naming what failed."""
    data = load_json(body)
    try:
        return RequestSubmission.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(validation_errors(exc, data)) from None


@router.post("/requests", status_code=status.HTTP_202_ACCEPTED, responses=_ANSWERS)
async def receive_request(
    request: Request,
    source: Annotated[str | None, Header(alias="X-ServiceOps-Source")] = None,
    timestamp: Annotated[str | None, Header(alias="X-ServiceOps-Timestamp")] = None,
    signature: Annotated[str | None, Header(alias="X-ServiceOps-Signature")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Record a service request (a `RequestSubmission` as JSON) and start its fulfilment.

    Signed with the source's secret: `X-ServiceOps-Timestamp` (unix seconds) and
    `X-ServiceOps-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
    """
    settings: Settings = request.app.state.settings
    secrets = secrets_of(settings, source)
    assert source is not None
    try:
        body = await read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, detail=f"body over {MAX_BODY_BYTES} bytes"
        ) from None
    seen = verified(secrets, source, timestamp, signature, body)
    try:
        check_idempotency_key(idempotency_key)
        submission = _submission(body)
    except PayloadError as exc:
        return _unprocessable(exc.errors)
    sessions: sessionmaker[Session] = request.app.state.sessions
    key = idempotency_key or submission.id
    accepted = await anyio.to_thread.run_sync(
        lambda: intake.accept(
            sessions,
            submission,
            source=source,
            key=key,
            at=datetime.now(UTC),
            known=Provenance(via=Channel.TOKEN, ref=source),
            signature_key=seen,
        )
    )
    if accepted.first:
        logger.info("%s accepted from %s", accepted.body["number"], source)
        starter: RunStarter = request.app.state.starter
        starter.submit(StartJob(accepted, submission, source, key))
    return JSONResponse(accepted.body, status_code=accepted.status)
