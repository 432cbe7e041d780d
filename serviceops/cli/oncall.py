"""`serviceops oncall ...`: who is on call (read from the catalogue's schedules and the
overrides), and overrides set through the set-oncall-override deployment, so they are audited
like any change (as the OS user who ran the CLI); `serviceops page ...`: a page shown, and
answered through acknowledge-page."""

from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic_core import ErrorDetails

from serviceops import deployment_names as names
from serviceops.application.oncall import on_call
from serviceops.application.pages import acknowledge_refusal
from serviceops.cli import runs
from serviceops.cli.common import (
    ActorOpt,
    JsonOpt,
    TimeoutOpt,
    echo_json,
    fail,
    option_name,
    run_or_fail,
    transaction,
    validated,
    vouched,
)
from serviceops.cli.output import table, when
from serviceops.domain.oncall import AcknowledgePage, SetOverride, UnknownSchedule
from serviceops.domain.views import OnCallDocument
from serviceops.settings import get_settings
from serviceops.store.base import RecordNotFound
from serviceops.store.oncall import PageRepository

oncall_app = typer.Typer(help="On-call schedules: who answers a page, and overrides.")

# An instant with its offset: on-call spans timezones, so a bare local time would be a guess.
INSTANT_FORMATS = ["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M%z"]
GroupOpt = Annotated[str | None, typer.Option(help="One support group (default: all).")]
InstantOpt = Annotated[
    datetime | None,
    typer.Option(
        help="The instant (default now), e.g. 2026-12-04T18:00+00:00.", formats=INSTANT_FORMATS
    ),
]


@oncall_app.command("who")
def oncall_who(group: GroupOpt = None, at: InstantOpt = None, as_json: JsonOpt = False) -> None:
    """Who is on call now (or --at) and next, per group and layer."""
    with transaction(get_settings()) as session:
        try:
            document = on_call(session, at or datetime.now(UTC), group)
        except UnknownSchedule as unknown:
            fail(str(unknown))
    if as_json:
        echo_json(document)
        return
    typer.echo(_who_table(document))


@oncall_app.command("override")
def oncall_override(
    group: Annotated[str, typer.Option(help="The support group, e.g. dba.")],
    person: Annotated[str, typer.Option(help="Who covers: a directory user name.")],
    starts: Annotated[
        datetime, typer.Option("--from", help="From, with its offset.", formats=INSTANT_FORMATS)
    ],
    ends: Annotated[
        datetime, typer.Option("--until", help="Until, with its offset.", formats=INSTANT_FORMATS)
    ],
    actor: ActorOpt,
    layer: Annotated[str, typer.Option(help="primary, secondary ...")] = "primary",
    reason: Annotated[str, typer.Option(help="Why, e.g. Alex on leave.")] = "",
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Put someone on a layer for a while (runs set-oncall-override): "Sam covers Alex from
    Friday 18:00 to Monday 09:00"."""
    command = validated(
        SetOverride,
        name_of=_option,
        group=group,
        layer=layer,
        person=person,
        starts_at=starts,
        ends_at=ends,
        reason=reason,
        actor=actor,
    )
    call = runs.FlowCall(names.SET_ONCALL_OVERRIDE, {"override": runs.as_parameter(command)})
    run_or_fail(vouched(call, command.actor, "", get_settings()), timeout, as_json)
    with transaction(get_settings()) as session:
        document = on_call(session, command.starts_at, command.group)
    if as_json:
        echo_json(document)
        return
    typer.echo(f"{command.person} covers {command.group}/{command.layer} from "
               f"{when(command.starts_at)} until {when(command.ends_at)}")  # fmt: skip
    typer.echo(_who_table(document))


def _option(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error["loc"] else "input"
    return {"starts_at": "--from", "ends_at": "--until"}.get(field, option_name(field))


def _who_table(document: OnCallDocument) -> str:
    rows = [
        [
            v.group,
            v.layer,
            v.person,
            v.why.value,
            when(v.until),
            f"{v.next_person} ({v.next_why})" if v.next_person else "-",
        ]
        for v in document.oncall
    ]
    return table(["group", "layer", "on call", "why", "until", "next"], rows)


page_app = typer.Typer(help="Pages: an incident's walk up its group's escalation ladder.")

PageArg = Annotated[str, typer.Argument(help="The page, e.g. PGE-000001.")]


@page_app.command("ack")
def page_ack(
    number: PageArg, actor: ActorOpt, timeout: TimeoutOpt = 120, as_json: JsonOpt = False
) -> None:
    """Answer a page (runs acknowledge-page): the ladder stops and the incident is yours. Only
    someone the page paged, or a member of its group, may."""
    command = validated(AcknowledgePage, number=number, actor=actor)
    with transaction(get_settings()) as session:
        refusal = acknowledge_refusal(session, command.number, command.actor)
    if refusal is not None:
        fail(refusal)
    call = runs.FlowCall(names.ACKNOWLEDGE_PAGE, {"command": runs.as_parameter(command)})
    run_or_fail(vouched(call, command.actor, command.number, get_settings()), timeout, as_json)
    _show(command.number, as_json)


@page_app.command("show")
def page_show(number: PageArg, as_json: JsonOpt = False) -> None:
    """A page: its state, each step paged (whom, when), who acknowledged."""
    _show(number, as_json)


def _show(number: str, as_json: bool) -> None:
    with transaction(get_settings()) as session:
        try:
            page = PageRepository(session).get(number)
        except RecordNotFound:
            fail(f"no page {number}")
    if as_json:
        echo_json({"page": page.model_dump(mode="json")})
        return
    by = (
        f" by {page.acknowledged_by} at {when(page.acknowledged_at)}"
        if page.acknowledged_by
        else ""
    )
    typer.echo(f"{page.number} for {page.incident} ({page.group}): {page.state}{by}")
    rows = [[str(p.step + 1), when(p.at), ", ".join(p.persons)] for p in page.paged]
    typer.echo(table(["step", "paged at", "whom"], rows))
