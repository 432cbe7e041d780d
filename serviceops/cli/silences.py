"""`serviceops silence ...`: quiet for planned work, declared, put back and lifted through the
add-silence, extend-silence and lift-silence deployments (audited as the OS user who ran the
CLI), and read from the database (`list`, `show`, `--json` the read API's documents)."""

import re
from datetime import datetime
from typing import Annotated

import typer
from pydantic_core import ErrorDetails

from serviceops import deployment_names as names
from serviceops.application.events import silence_document, silence_page
from serviceops.cli import runs
from serviceops.cli.common import (
    EXIT_USAGE,
    ActorOpt,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    TimeoutOpt,
    echo_json,
    fail,
    option_name,
    run_or_fail,
    transaction,
    validated,
    vouched,
)
from serviceops.cli.oncall import INSTANT_FORMATS
from serviceops.cli.output import fields, history, table, when
from serviceops.domain.event import AddSilence, ExtendSilence, LiftSilence, SilenceState
from serviceops.domain.views import SilenceDocument
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.base import RecordNotFound

silence_app = typer.Typer(help="Silences: no incident, page or message for planned work.")

SILENCE_NUMBER = re.compile(r"^SIL-\d{6,}$")
NumberArg = Annotated[str, typer.Argument(metavar="NUMBER", help="The silence, e.g. SIL-000001.")]
UntilOpt = Annotated[
    datetime, typer.Option("--until", help="The end, with its offset.", formats=INSTANT_FORMATS)
]


@silence_app.command("add")
def silence_add(
    until: UntilOpt,
    reason: Annotated[str, typer.Option(help="The planned work, e.g. 'kernel update'.")],
    actor: ActorOpt,
    ci: Annotated[str | None, typer.Option(help="A CI, e.g. db-01.")] = None,
    service: Annotated[str | None, typer.Option(help="A service, e.g. mail.")] = None,
    check: Annotated[str | None, typer.Option(help="An alert name or check.")] = None,
    owner: Annotated[
        str | None, typer.Option(help="Who answers for it (default: the actor).")
    ] = None,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Silence a CI, a service or a check (all given must match) until --until (runs
    add-silence): new alerts of what it matches raise no incident and page nobody."""
    command = validated(
        AddSilence,
        name_of=_option,
        ci=ci,
        service=service,
        check=check,
        ends_at=until,
        reason=reason,
        owner=owner or actor,
        actor=actor,
    )
    call = runs.FlowCall(names.ADD_SILENCE, {"silence": runs.as_parameter(command)})
    flow_run_id = run_or_fail(vouched(call, command.actor, "", get_settings()), timeout, as_json)
    with transaction(get_settings()) as session:
        touched = AuditRepository(session).records_of_flow_run(flow_run_id)
    number = next((record for record in touched if SILENCE_NUMBER.match(record)), None)
    if number is None:
        fail(f"flow run {flow_run_id} completed but recorded no silence in this database")
    _show(number, as_json)


@silence_app.command("extend")
def silence_extend(
    number: NumberArg,
    until: UntilOpt,
    actor: ActorOpt,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Put a silence's end back (runs extend-silence); its owner hears of a third time."""
    command = validated(ExtendSilence, name_of=_option, number=number, ends_at=until, actor=actor)
    call = runs.FlowCall(names.EXTEND_SILENCE, {"command": runs.as_parameter(command)})
    run_or_fail(vouched(call, command.actor, command.number, get_settings()), timeout, as_json)
    _show(command.number, as_json)


@silence_app.command("lift")
def silence_lift(
    number: NumberArg,
    actor: ActorOpt,
    reason: Annotated[str, typer.Option(help="Why, e.g. 'work finished'.")] = "",
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """End a silence now (runs lift-silence): what it holds and is still firing proceeds."""
    command = validated(LiftSilence, number=number, reason=reason, actor=actor)
    call = runs.FlowCall(names.LIFT_SILENCE, {"command": runs.as_parameter(command)})
    run_or_fail(vouched(call, command.actor, command.number, get_settings()), timeout, as_json)
    _show(command.number, as_json)


@silence_app.command("list")
def silence_list(
    state: Annotated[SilenceState | None, typer.Option(help="active, expired or lifted.")] = None,
    limit: LimitOpt = 100,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Silences, newest first."""
    with transaction(get_settings()) as session:
        page = silence_page(session, state=state, limit=limit, offset=offset)
    if as_json:
        echo_json(page)
        return
    if not page.silences:
        typer.echo("no silences")
        return
    rows = [
        [v.number, v.state, v.scope, when(v.ends_at), v.owner, str(v.extensions), v.reason]
        for v in page.silences
    ]
    typer.echo(table(["number", "state", "silences", "until", "owner", "ext", "reason"], rows))


@silence_app.command("show")
def silence_show(number: NumberArg, as_json: JsonOpt = False) -> None:
    """A silence, the alerts it holds back now, its history."""
    if not SILENCE_NUMBER.match(number):
        typer.echo(f"error: {number!r} is not a silence number (SIL-000001)", err=True)
        raise typer.Exit(EXIT_USAGE)
    _show(number, as_json)


def _show(number: str, as_json: bool) -> None:
    with transaction(get_settings()) as session:
        try:
            document = silence_document(session, number)
        except RecordNotFound:
            fail(f"no silence {number}")
    if as_json:
        echo_json(document)
        return
    typer.echo(_detail(document))


def _detail(document: SilenceDocument) -> str:
    silence = document.silence
    pairs = [
        ("state", silence.state),
        ("silences", silence.scope),
        ("until", when(silence.ends_at)),
        ("owner", silence.owner),
        ("extended", f"{silence.extensions} time(s)"),
        ("reason", silence.reason),
        ("holds", ", ".join(alert.number for alert in document.held) or "-"),
    ]
    return f"{silence.number}\n{fields(pairs)}\n\n{history(document.audit)}"


def _option(error: ErrorDetails) -> str:
    """The option an error is about; one about the whole silence is about what it names."""
    if not error["loc"]:
        return "--ci/--service/--check"
    field = str(error["loc"][0])
    return {"ends_at": "--until"}.get(field, option_name(field))
