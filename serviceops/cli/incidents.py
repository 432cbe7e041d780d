"""`serviceops incident ...`: read incidents from the database; log and change them through
the deployed flows, which the CLI starts and waits for (serviceops.cli.runs)."""

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from serviceops.application.incidents import incident_document, incident_page
from serviceops.cli import output, runs
from serviceops.cli.common import (
    ActorOpt,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    TimeoutOpt,
    echo_json,
    fail,
    run_or_fail,
    transaction,
    validated,
    vouched,
)
from serviceops.domain.incident import (
    AcknowledgeIncident,
    CloseIncident,
    EscalateIncident,
    IncidentCommand,
    IncidentDraft,
    IncidentState,
    PendIncident,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
    StartIncidentWork,
)
from serviceops.domain.views import (
    IncidentDocument,
    RunDocument,
)
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.base import RecordNotFound

incident_app = typer.Typer(help="Incidents: log, move through the lifecycle, read.")


def _load_document(session: Session, number: str) -> IncidentDocument:
    try:
        return incident_document(session, number, datetime.now(UTC))
    except RecordNotFound as exc:
        fail(str(exc))


NumberArg = Annotated[str, typer.Argument(metavar="NUMBER", help="e.g. INC-000123")]


# --------------------------------------------------------------------------- incident reads


@incident_app.command("show")
def incident_show(number: NumberArg, as_json: JsonOpt = False) -> None:
    """One incident with its history."""
    with transaction(get_settings()) as session:
        document = _load_document(session, number)
    if as_json:
        echo_json(document)
    else:
        typer.echo(output.incident_detail(document.incident, document.audit))


@incident_app.command("list")
def incident_list(
    state: Annotated[IncidentState | None, typer.Option(help="Lifecycle state.")] = None,
    priority: Annotated[int | None, typer.Option(min=1, max=5, help="1 .. 5")] = None,
    service: Annotated[str | None, typer.Option(help="Exact service name.")] = None,
    limit: LimitOpt = 100,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Incidents, newest first."""
    with transaction(get_settings()) as session:
        page = incident_page(
            session,
            datetime.now(UTC),
            state=state,
            priority=priority,
            service=service,
            limit=limit,
            offset=offset,
        )
    if as_json:
        echo_json(page)
    else:
        typer.echo(output.incident_table(page.incidents))


# --------------------------------------------------------------------------- incident changes


def _print_run(number: str, flow_run_id: str, as_json: bool) -> None:
    with transaction(get_settings()) as session:
        document = _load_document(session, number)
    if as_json:
        echo_json(RunDocument(incident=document.incident, flow_run_id=flow_run_id))
    else:
        typer.echo(output.incident_detail(document.incident))
        typer.echo(f"\nflow run {flow_run_id}")


def _change(command: IncidentCommand, timeout: float, as_json: bool) -> None:
    """Run the command's flow and print the incident as it is afterwards."""
    call = vouched(runs.command_call(command), command.actor, command.number, get_settings())
    flow_run_id = run_or_fail(call, timeout, as_json)
    _print_run(command.number, flow_run_id, as_json)


@incident_app.command("open")
def incident_open(
    title: Annotated[str, typer.Option(help="One line.")],
    service: Annotated[str, typer.Option(help="Affected service (CI).")],
    category: Annotated[str, typer.Option(help="e.g. network/vpn")],
    impact: Annotated[str, typer.Option(help="high, medium or low")],
    urgency: Annotated[str, typer.Option(help="high, medium or low")],
    reporter: Annotated[str, typer.Option(help="Who reported it.")],
    description: Annotated[str, typer.Option(help="What is seen, since when.")] = "",
    source: Annotated[str, typer.Option(help="How it came in.")] = "cli",
    major: Annotated[bool, typer.Option("--major", help="Take the major-incident path.")] = False,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Log an incident (runs log-incident) and print it with its number."""
    draft = validated(
        IncidentDraft,
        title=title,
        service=service,
        category=category,
        impact=impact,
        urgency=urgency,
        reporter=reporter,
        description=description,
        source=source,
        major=major,
    )
    call = vouched(runs.log_incident_call(draft), draft.reporter, "", get_settings())
    flow_run_id = run_or_fail(call, timeout, as_json)
    with transaction(get_settings()) as session:
        touched = AuditRepository(session).records_of_flow_run(flow_run_id)
    number = next((record for record in touched if record.startswith("INC-")), None)
    if number is None:
        fail(f"flow run {flow_run_id} completed but recorded no incident in this database")
    _print_run(number, flow_run_id, as_json)


@incident_app.command("ack")
def incident_ack(
    number: NumberArg, actor: ActorOpt, timeout: TimeoutOpt = 120, as_json: JsonOpt = False
) -> None:
    """Acknowledge: the support group owns it; the response clock stops."""
    _change(validated(AcknowledgeIncident, number=number, actor=actor), timeout, as_json)


@incident_app.command("start")
def incident_start(
    number: NumberArg, actor: ActorOpt, timeout: TimeoutOpt = 120, as_json: JsonOpt = False
) -> None:
    """Start investigation and diagnosis."""
    _change(validated(StartIncidentWork, number=number, actor=actor), timeout, as_json)


@incident_app.command("pend")
def incident_pend(
    number: NumberArg,
    actor: ActorOpt,
    reason: Annotated[str, typer.Option(help="Waiting on whom or what.")],
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Wait on someone outside the group: the SLA clocks pause."""
    command = validated(PendIncident, number=number, actor=actor, reason=reason)
    _change(command, timeout, as_json)


@incident_app.command("resume")
def incident_resume(
    number: NumberArg, actor: ActorOpt, timeout: TimeoutOpt = 120, as_json: JsonOpt = False
) -> None:
    """Back from pending: the SLA clocks run again."""
    _change(validated(ResumeIncident, number=number, actor=actor), timeout, as_json)


@incident_app.command("escalate")
def incident_escalate(
    number: NumberArg,
    actor: ActorOpt,
    kind: Annotated[str, typer.Option(help="functional (another group) or hierarchic.")],
    reason: Annotated[str, typer.Option(help="Why it is escalated.")],
    to_group: Annotated[str | None, typer.Option(help="Target group (functional).")] = None,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Escalate: functional hands it to another group, hierarchic tells management."""
    command = validated(
        EscalateIncident, number=number, actor=actor, kind=kind, to_group=to_group, reason=reason
    )
    _change(command, timeout, as_json)


@incident_app.command("resolve")
def incident_resolve(
    number: NumberArg,
    actor: ActorOpt,
    code: Annotated[str, typer.Option(help="fixed, workaround, no_fault_found, ...")],
    notes: Annotated[str, typer.Option(help="What restored the service.")],
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Service restored: the resolution clock stops."""
    command = validated(ResolveIncident, number=number, actor=actor, code=code, notes=notes)
    _change(command, timeout, as_json)


@incident_app.command("close")
def incident_close(
    number: NumberArg,
    actor: ActorOpt,
    note: Annotated[str, typer.Option(help="Closing note.")] = "",
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Close: the user confirmed the resolution."""
    _change(validated(CloseIncident, number=number, actor=actor, note=note), timeout, as_json)


@incident_app.command("reopen")
def incident_reopen(
    number: NumberArg,
    actor: ActorOpt,
    reason: Annotated[str, typer.Option(help="Why the fix did not hold.")],
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Reopen a resolved incident (within the reopen window)."""
    command = validated(ReopenIncident, number=number, actor=actor, reason=reason)
    _change(command, timeout, as_json)
