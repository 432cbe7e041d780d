"""Event intake: `POST /webhooks/alertmanager` and `POST /webhooks/events`.

Both answer 202 once the delivery's events are recorded (one INSERT for all of them) and kick
process-events; nothing is decided on the request path. Checks run cheapest first: the
credential, the size, then parsing (strict JSON that can be stored and read back, see
payload.load_json). A delivery is all or nothing: if any event in it is invalid, none is
recorded and the 422 names the field, so a sender's retry cannot half-repeat. A signed
delivery whose signature was seen before is a repeat whatever its Idempotency-Key; Alertmanager
signs nothing (a bearer token), so its repeats are recorded and deduplicated as events.
"""

import logging
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.event import AlertmanagerPayload, EventIn, to_events
from serviceops.gateway.event_runs import ProcessingKicker
from serviceops.gateway.payload import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    PayloadError,
    check_idempotency_key,
    load_json,
    read_body,
    validation_errors,
)
from serviceops.gateway.webhooks import secrets_of, verified
from serviceops.settings import Settings
from serviceops.store.event import EventRepository
from serviceops.store.request import DeliveryRepository
from serviceops.store.write_lock import WriteLockTimeout, take_write_lock

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["events"])

MAX_EVENTS = 1000
WRITE_PATIENCE_S = 5.0  # a sender's timeout is about 10 s: answer 503 before it gives up
ModelT = TypeVar("ModelT", bound=BaseModel)
_ANSWERS: dict[int | str, dict[str, Any]] = {
    202: {"description": 'Recorded: `{"accepted": n, "events": ["EVT-000001", ...]}`'},
    401: {"description": "Missing or wrong credentials"},
    413: {"description": "Body over 1 MiB"},
    422: {"description": "Invalid payload; `loc` names the field"},
    503: {"description": "No credentials configured, or the database stayed busy (retry)"},
}


class EventBatch(BaseModel):
    """Several events in one delivery."""

    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class Recorded(BaseModel):
    accepted: int
    events: list[str]


@router.post("/alertmanager", status_code=status.HTTP_202_ACCEPTED, responses=_ANSWERS)
async def receive_alertmanager(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """Prometheus Alertmanager's webhook (payload version 4), as Alertmanager sends it.

    Configure the receiver with `http_config: {authorization: {credentials: <token>}}`; the
    token is SERVICEOPS_ALERTMANAGER_TOKEN (or the file `make up` writes).
    """
    settings: Settings = request.app.state.settings
    expected = settings.read_alertmanager_token()
    if expected is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="alertmanager webhook disabled: set SERVICEOPS_ALERTMANAGER_TOKEN",
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    body = await _body(request)
    try:
        data = load_json(body, decimals=False)
        payload = _validated(AlertmanagerPayload, data)
        events = to_events(payload)
    except PayloadError as exc:
        return _unprocessable(exc.errors)
    except ValueError as exc:
        loc, _, msg = str(exc).partition(": ")
        return _unprocessable([{"loc": ["body", *_path(loc)], "msg": msg, "type": "value_error"}])
    return await _record(request, events, source="alertmanager", keys=())


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, responses=_ANSWERS)
async def receive_events(
    request: Request,
    source: Annotated[str | None, Header(alias="X-ServiceOps-Source")] = None,
    timestamp: Annotated[str | None, Header(alias="X-ServiceOps-Timestamp")] = None,
    signature: Annotated[str | None, Header(alias="X-ServiceOps-Signature")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Generic events: one `EventIn` object, or `{"events": [...]}` (at most 1000).

    Signed like every serviceops webhook: `X-ServiceOps-Source`, `X-ServiceOps-Timestamp` and
    `X-ServiceOps-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. An event
    without a `source` takes the header's. A repeat delivery (same `Idempotency-Key`) or a
    replay (same signature, with any key or none) gets the first answer and records nothing.
    """
    settings: Settings = request.app.state.settings
    known = secrets_of(settings, source)
    assert source is not None
    body = await _body(request)
    seen = verified(known, source, timestamp, signature, body)
    try:
        check_idempotency_key(idempotency_key)
        events = _generic_events(load_json(body, decimals=False), source)
    except PayloadError as exc:
        return _unprocessable(exc.errors)
    return await _record(request, events, source=source, keys=(seen, idempotency_key))


async def _body(request: Request) -> bytes:
    try:
        return await read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, detail=f"body over {MAX_BODY_BYTES} bytes"
        ) from None


def _validated(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(validation_errors(exc, data)) from None


def _generic_events(data: Any, source: str) -> list[EventIn]:
    """The events of a batch, or the one event the body is; errors name the field as the
    sender wrote it (`body.occurred_at` for one event, `body.events.1.occurred_at` in a batch).
    """
    if not (isinstance(data, dict) and "events" in data):
        return [_validated(EventIn, _with_source(data, source))]
    items = data["events"]
    for item in items if isinstance(items, list) else []:
        _with_source(item, source)
    return _validated(EventBatch, data).events


def _with_source(item: Any, source: str) -> Any:
    """An event without a `source` takes the header's."""
    if isinstance(item, dict):
        item.setdefault("source", source)
    return item


async def _record(
    request: Request, events: list[EventIn], *, source: str, keys: tuple[str | None, ...]
) -> JSONResponse:
    """Record the events and answer, or give the first answer of a delivery `keys` (its
    signature's key first, then its Idempotency-Key) name."""
    sessions: sessionmaker[Session] = request.app.state.sessions

    def record() -> tuple[int, dict[str, Any], bool]:
        with sessions.begin() as session:
            take_write_lock(session, WRITE_PATIENCE_S)
            at = datetime.now(UTC)
            deliveries = DeliveryRepository(session)
            stored = deliveries.claim_all(source, keys, at)
            if stored is not None:
                return stored.status, stored.body, False
            numbers = EventRepository(session).record(events, at)
            body = Recorded(accepted=len(numbers), events=numbers).model_dump()
            deliveries.answer_all(source, keys, status.HTTP_202_ACCEPTED, body)
        return status.HTTP_202_ACCEPTED, body, True

    writer: anyio.CapacityLimiter = request.app.state.event_writer
    try:
        code, body, first = await anyio.to_thread.run_sync(record, limiter=writer)
    except WriteLockTimeout:
        logger.warning("events not recorded: the database stayed locked for %s s", WRITE_PATIENCE_S)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="database busy: nothing was recorded, send again",
            headers={"Retry-After": "1"},
        ) from None
    if first:
        kicker: ProcessingKicker = request.app.state.kicker
        kicker.kick()
    return JSONResponse(body, status_code=code)


def _unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _path(loc: str) -> list[str | int]:
    """ "alerts[2].labels" -> ["alerts", 2, "labels"]."""
    parts: list[str | int] = []
    for part in loc.replace("[", ".").replace("]", "").split("."):
        if part:
            parts.append(int(part) if part.isdigit() else part)
    return parts
