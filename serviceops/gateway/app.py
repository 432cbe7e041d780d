"""The gateway application: `create_app(settings)` builds it, `run(settings)` serves it.

Errors never leave with a stack trace: an unexpected exception becomes `{"detail": "internal
error"}` with status 500 and goes to the log; a database that cannot be reached becomes 503,
which tells a client to retry rather than to give up. A request framed two ways is refused
before anything reads it (see OneFraming).
"""

import gc
import logging
from typing import Any

import anyio
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serviceops.gateway import (
    catalogue,
    event_records,
    events,
    incidents,
    kpis,
    oncall,
    page_links,
    problems,
    requests,
    slack,
    webhooks,
)
from serviceops.gateway.event_runs import ProcessingKicker
from serviceops.gateway.starter import RunStarter
from serviceops.settings import Settings, get_settings
from serviceops.store.db import sessions_for

logger = logging.getLogger(__name__)
GC_THRESHOLDS = (700, 10, 1000)  # Python's defaults, but full collections 100 times rarer


class CatchAll:
    """Outermost guard: an unhandled exception is logged once and answered as a JSON 500.

    A plain `Exception` handler in Starlette answers but then re-raises to the server, which
    logs the traceback a second time; this middleware keeps it to one log line per failure.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # the status line is gone; nothing better can be sent
                raise
            response = JSONResponse(
                {"detail": "internal error"}, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR
            )
            await response(scope, receive, send)


class OneFraming:
    """A request with both Content-Length and Transfer-Encoding is answered 400 and its
    connection closed, unread.

    The two disagree on where the body ends. h11 (uvicorn's parser) goes by
    Transfer-Encoding; a proxy in front that goes by Content-Length would pass the rest of the
    body on as a second request nobody checked (request smuggling). RFC 9112 6.3 lets a server
    reject such a message; h11 itself already refuses the other ambiguous framings (two
    lengths, two codings, a coding other than chunked).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _framed_twice(scope["headers"]):
            logger.warning("refused %s %s: two framings", scope.get("method"), scope.get("path"))
            response = JSONResponse(
                {"detail": "Content-Length and Transfer-Encoding together"},
                status_code=status.HTTP_400_BAD_REQUEST,
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _framed_twice(headers: list[tuple[bytes, bytes]]) -> bool:
    names = {name.lower() for name, _ in headers}
    return b"content-length" in names and b"transfer-encoding" in names


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A database that cannot be reached (or is locked, or not migrated) is the operator's to
    fix and a client's to retry: 503, logged with its cause, never with the SQL or the URL."""
    logger.error("database error on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "database unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE
    )


def create_app(
    settings: Settings | None = None,
    *,
    sessions: sessionmaker[Session] | None = None,
    prefect_api_url: str | None = None,
) -> FastAPI:
    """A gateway bound to `settings` (default: the process settings); nothing connects yet.

    `sessions` replaces the per-process cached sessionmaker of the settings' database URL,
    for callers (tests) that own an engine and dispose of it themselves. `prefect_api_url`
    overrides PREFECT_API_URL for the runs this gateway starts and resumes.
    """
    settings = settings or get_settings()
    app = FastAPI(
        title="serviceops gateway",
        version="1",
        description=(
            "Read API for service-desk records; webhooks and Slack interactions start and "
            "resume flow runs."
        ),
    )
    app.state.settings = settings
    app.state.sessions = sessions or sessions_for(settings.resolved_database_url)
    app.state.prefect_api_url = prefect_api_url
    app.state.starter = RunStarter(app.state.sessions, prefect_api_url)
    app.state.kicker = ProcessingKicker(prefect_api_url)
    # Deliveries of events are written one at a time, in arrival order: on SQLite, threads
    # racing for its one writer slot wait in its busy handler, which sleeps in steps of up to
    # 100 ms, and the unlucky ones set the storm's tail (p99 450 ms at 2,000 events/s; 160
    # ms queued here). One write takes about 3 ms, so the queue costs no throughput that
    # matters; on PostgreSQL four writers at once gave the same tail as one.
    app.state.event_writer = anyio.CapacityLimiter(1)
    for unreachable in (OperationalError, InterfaceError):
        app.add_exception_handler(unreachable, _database_unavailable)
    app.add_middleware(CatchAll)
    app.add_middleware(OneFraming)  # added last: the outermost, before anything reads a body
    app.include_router(incidents.router)
    app.include_router(requests.router)
    app.include_router(catalogue.router)
    app.include_router(webhooks.router)
    app.include_router(events.router)
    app.include_router(event_records.router)
    app.include_router(slack.router)
    app.include_router(kpis.router)
    app.include_router(problems.router)
    app.include_router(oncall.router)
    app.include_router(page_links.router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """Liveness and readiness in one: the process answers and the database does too."""
        try:
            with app.state.sessions() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            logger.warning("health check: database unavailable: %s", exc)
            return JSONResponse(
                {"status": "unavailable", "detail": "database unavailable"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return JSONResponse({"status": "ok"})

    return app


def run(settings: Settings | None = None, **uvicorn_options: Any) -> None:
    """Serve the gateway on settings.gateway_host:gateway_port until interrupted."""
    import uvicorn

    settings = settings or get_settings()
    options: dict[str, Any] = {"log_level": "info"} | uvicorn_options
    app = create_app(settings)
    # Everything loaded so far (FastAPI, SQLAlchemy, Prefect's client) lives as long as the
    # process: out of the collector's sight, a full collection no longer walks it and stalls
    # every request in flight (tens of milliseconds each time, the tail of a storm). What a
    # delivery allocates is freed young; a full collection every 10 young ones (Python's
    # default) still took 10 ms every ~70 deliveries: once every 1,000 instead.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    uvicorn.run(app, host=settings.gateway_host, port=settings.gateway_port, **options)
