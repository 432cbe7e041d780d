"""`serviceops`: the operator's command line.

Reads (`incident show/list`, `outbox list`, `request show/list`) go straight to the serviceops
database. Changes (`incident open/ack/...`) run the deployed flow and wait for it, so that a
change made from a terminal is the same audited, retried, visible-in-the-UI flow run as one
made from Slack or a webhook. Service requests (serviceops.cli_requests) are recorded first
and then handed to fulfil-request, as the webhook does; approvals resume the suspended run.
Every input is validated with the domain model before anything runs: a bad value is one line
naming the option and exit code 2. `--json` prints the stable documents of
serviceops.domain.views.incidents; the human text may change.
"""

import logging
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from serviceops import cli_output, cli_runs
from serviceops.cli_catalogue import checks_app, services_app
from serviceops.cli_common import (
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
)
from serviceops.cli_events import alerts_app, events_app
from serviceops.cli_identities import identity_app
from serviceops.cli_problems import kedb_app, problem_app
from serviceops.cli_requests import catalogue_app, request_app
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
    AuditView,
    IncidentDocument,
    IncidentList,
    IncidentView,
    RunDocument,
)
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.base import RecordNotFound
from serviceops.store.db import migrate
from serviceops.store.incident import IncidentRepository

# Locals in a traceback could hold tokens: never show them.
app = typer.Typer(
    help="ITIL Service Operation as Prefect flows.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The serviceops database.", no_args_is_help=True)
incident_app = typer.Typer(help="Incidents: log, move through the lifecycle, read.")
outbox_app = typer.Typer(help="Notifications recorded for Slack.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(incident_app, name="incident", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
app.add_typer(request_app, name="request", no_args_is_help=True)
app.add_typer(catalogue_app, name="catalogue", no_args_is_help=True)
app.add_typer(identity_app, name="identity", no_args_is_help=True)
app.add_typer(services_app, name="services", no_args_is_help=True)
app.add_typer(checks_app, name="checks", no_args_is_help=True)
app.add_typer(events_app, name="events", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts", no_args_is_help=True)
app.add_typer(problem_app, name="problem", no_args_is_help=True)
app.add_typer(kedb_app, name="kedb", no_args_is_help=True)

NumberArg = Annotated[str, typer.Argument(metavar="NUMBER", help="e.g. INC-000123")]


# --------------------------------------------------------------------------- plumbing


def _load_document(session: Session, number: str) -> IncidentDocument:
    try:
        incident = IncidentRepository(session).get(number)
    except RecordNotFound as exc:
        fail(str(exc))
    audit = [AuditView.of(entry) for entry in AuditRepository(session).for_record(number)]
    return IncidentDocument(incident=IncidentView.of(incident, datetime.now(UTC)), audit=audit)


# --------------------------------------------------------------------------- db, gateway


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the serviceops database to the latest schema."""
    settings = get_settings()
    url = settings.resolved_database_url
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        migrate(url)
    except SQLAlchemyError as exc:
        fail(f"database {shown}: {str(exc).splitlines()[0]}")
    typer.echo(f"database {shown} is at the latest schema")


@app.command("gateway")
def gateway(
    host: Annotated[str | None, typer.Option(help="Default: SERVICEOPS_GATEWAY_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: SERVICEOPS_GATEWAY_PORT.")] = None,
) -> None:
    """Serve the HTTP gateway (read API, webhooks) until interrupted."""
    from serviceops.gateway.app import run

    settings = get_settings()
    overrides = {"gateway_host": host, "gateway_port": port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if settings.read_api_token() is None:
        typer.echo(
            "warning: no API token configured (SERVICEOPS_API_TOKEN or "
            f"{settings.api_token_file}): the read API will answer 503",
            err=True,
        )
    run(settings)


# --------------------------------------------------------------------------- the stack


def _log_progress() -> None:
    """The stack's own progress lines, without every HTTP request httpx logs at INFO."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    logger = logging.getLogger("serviceops")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # Prefect's root handler would print each line a second time


@app.command("up")
def up() -> None:
    """Migrate, start the Prefect server, register blocks, run deployments, start the gateway."""
    from serviceops.stack import Stack, StackError

    _log_progress()
    settings = get_settings()
    try:
        Stack(settings).up()
    except StackError as exc:
        fail(str(exc))
    ui = settings.prefect_api_url.removesuffix("/api")
    gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
    token = "SERVICEOPS_API_TOKEN" if settings.api_token else settings.api_token_file
    am_token = (
        "SERVICEOPS_ALERTMANAGER_TOKEN"
        if settings.alertmanager_token
        else settings.alertmanager_token_file
    )
    typer.echo(
        "serviceops is up\n"
        f"  Prefect UI      {ui}\n"
        f"  read API        {gateway}/api/v1/incidents\n"
        f"  API token in    {token}\n"
        f"  Alertmanager    {gateway}/webhooks/alertmanager (bearer token in {am_token})\n"
        f"  catalogue       {settings.cmdb_file} (serviceops services load after edits)\n"
        f"  logs            {settings.state_dir}/logs/\n"
        "  stop with       make down"
    )


@app.command("down")
def down() -> None:
    """Stop what `up` started; serve stops only once no flow run is in flight."""
    from serviceops.stack import Stack

    _log_progress()
    Stack(get_settings()).down()
    typer.echo("serviceops is down")


# --------------------------------------------------------------------------- incident reads


@incident_app.command("show")
def incident_show(number: NumberArg, as_json: JsonOpt = False) -> None:
    """One incident with its history."""
    with transaction(get_settings()) as session:
        document = _load_document(session, number)
    if as_json:
        echo_json(document)
    else:
        typer.echo(cli_output.incident_detail(document.incident, document.audit))


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
    now = datetime.now(UTC)
    with transaction(get_settings()) as session:
        incidents = IncidentRepository(session).list(
            state=state, priority=priority, service=service, limit=limit, offset=offset
        )
        views = [IncidentView.of(incident, now) for incident in incidents]
    if as_json:
        echo_json(IncidentList(incidents=views, count=len(views), limit=limit, offset=offset))
    else:
        typer.echo(cli_output.incident_table(views))


# --------------------------------------------------------------------------- incident changes


def _print_run(number: str, flow_run_id: str, as_json: bool) -> None:
    with transaction(get_settings()) as session:
        document = _load_document(session, number)
    if as_json:
        echo_json(RunDocument(incident=document.incident, flow_run_id=flow_run_id))
    else:
        typer.echo(cli_output.incident_detail(document.incident))
        typer.echo(f"\nflow run {flow_run_id}")


def _change(command: IncidentCommand, timeout: float, as_json: bool) -> None:
    """Run the command's flow and print the incident as it is afterwards."""
    flow_run_id = run_or_fail(cli_runs.command_call(command), timeout, as_json)
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
    flow_run_id = run_or_fail(cli_runs.log_incident_call(draft), timeout, as_json)
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


# --------------------------------------------------------------------------- outbox


@outbox_app.command("list")
def outbox_list(
    show_all: Annotated[bool, typer.Option("--all", help="Delivered ones too.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Notifications not yet delivered to Slack (all of them with --all)."""
    from serviceops.notify.outbox import Outbox

    with transaction(get_settings()) as session:
        notifications = Outbox(session).list(undelivered_only=not show_all, limit=limit)
    if as_json:
        echo_json(
            {
                "notifications": [n.model_dump(mode="json") for n in notifications],
                "count": len(notifications),
            }
        )
    else:
        typer.echo(cli_output.notification_table(notifications))


if __name__ == "__main__":
    app()
