"""What every CLI command module shares: exit codes, one-line errors, validation through the
domain models, the read transaction and the JSON printer.

Exit codes: 1 = the operation failed (run failed, record missing, service down); 2 = the input
is wrong (the same as click's own usage errors). An error is one line on stderr starting with
`error: `, never a traceback.
"""

import dataclasses
import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from serviceops.cli import runs
from serviceops.domain.provenance import Channel, Provenance
from serviceops.settings import Settings
from serviceops.store.base import MAX_ROW_ID
from serviceops.store.db import sessions_for
from serviceops.store.tickets import TicketRepository, ticket_tag

Model = TypeVar("Model", bound=BaseModel)

EXIT_FAILED, EXIT_USAGE = 1, 2

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a stable JSON document.")]
ActorOpt = Annotated[str, typer.Option(help="Who acts (recorded in the audit trail).")]
TimeoutOpt = Annotated[
    float, typer.Option(min=0, help="Seconds to wait for the flow run to finish.")
]
LimitOpt = Annotated[int, typer.Option(min=1, max=500, help="Page size.")]
OffsetOpt = Annotated[int, typer.Option(min=0, max=MAX_ROW_ID, help="Records to skip.")]
"""At most MAX_ROW_ID: past it an offset skips every row, and the database refuses it."""


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def option_name(field: str) -> str:
    """The CLI spelling of a model field, so the error names what the user typed."""
    return "NUMBER" if field == "number" else f"--{field.replace('_', '-')}"


def _field_of(error: ErrorDetails) -> str:
    return option_name(".".join(str(part) for part in error["loc"]) or "input")


def validated(
    model: type[Model], /, name_of: Callable[[ErrorDetails], str] = _field_of, **values: Any
) -> Model:
    """Build a domain model from CLI options; a bad value exits 2 with one line naming each
    option. `name_of` says which option an error is about (default: the field's name)."""
    try:
        return model(**values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            given = error.get("input")
            shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
            problems.append(f"invalid {name_of(error)}: {error['msg']}{shown}")
        fail("; ".join(problems), EXIT_USAGE)


@contextmanager
def database_errors(settings: Settings) -> Iterator[None]:
    """A database that cannot be used is one line (exit 1), not a traceback."""
    try:
        yield
    except SQLAlchemyError as exc:
        url = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        fail(f"database {url}: {reason} (run `serviceops db upgrade`?)")


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One transaction on the settings' database, with database_errors."""
    with (
        database_errors(settings),
        sessions_for(settings.resolved_database_url).begin() as session,
    ):
        yield session


def echo_json(document: BaseModel | dict[str, Any]) -> None:
    if isinstance(document, BaseModel):
        typer.echo(document.model_dump_json(indent=2))
    else:
        typer.echo(json.dumps(document, indent=2, default=str))


def cli_provenance() -> Provenance:
    """How the CLI knows who runs it: the operating system's user, whatever --actor says."""
    return Provenance(via=Channel.CLI, ref=getpass.getuser())


def vouched(call: runs.FlowCall, actor: str, record: str, settings: Settings) -> runs.FlowCall:
    """`call` on a ticket saying the CLI ran it as this OS user, for `actor` on `record`, so
    the run's audit rows say so (serviceops.store.tickets)."""
    with transaction(settings) as session:
        ticket = TicketRepository(session).issue(
            cli_provenance(), actor, record, call.flow, datetime.now(UTC)
        )
    return dataclasses.replace(call, tags=(*call.tags, ticket_tag(ticket)))


def run_or_fail(call: runs.FlowCall, timeout: float, as_json: bool) -> str:
    """Run the deployment and wait; the flow run id when it completed, else say why (the
    flow's own message, e.g. an illegal transition, or that it is still running) and exit 1."""
    try:
        outcome = runs.run_and_wait(call, timeout)
    except runs.PrefectUnavailable as exc:
        fail(str(exc))
    if outcome.completed:
        return outcome.flow_run_id
    if outcome.final:
        error = f"flow run {outcome.flow_run_id} {outcome.state_name}: {outcome.message}"
    else:
        error = (
            f"flow run {outcome.flow_run_id} still {outcome.state_name} after {timeout:g}s; "
            "it carries on: follow it in the Prefect UI"
        )
    if as_json:
        echo_json({"flow_run_id": outcome.flow_run_id, "state": outcome.state_type, "error": error})
    fail(error)
