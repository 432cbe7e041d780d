"""`serviceops`: the operator's command line.

Reads (`incident show/list`, `outbox list`, `request show/list`) go straight to the serviceops
database. Changes (`incident open/ack/...`) run the deployed flow and wait for it, so that a
change made from a terminal is the same audited, retried, visible-in-the-UI flow run as one
made from Slack or a webhook. Service requests (serviceops.cli.requests) are recorded first
and then handed to fulfil-request, as the webhook does; approvals resume the suspended run.
Every input is validated with the domain model before anything runs: a bad value is one line
naming the option and exit code 2. `--json` prints the stable documents of
serviceops.domain.views.incidents; the human text may change."""

import logging
import sys
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from serviceops.cli import output
from serviceops.cli.catalogue import checks_app, services_app
from serviceops.cli.common import (
    JsonOpt,
    echo_json,
    fail,
    transaction,
)
from serviceops.cli.events import alerts_app, events_app
from serviceops.cli.identities import identity_app
from serviceops.cli.incidents import incident_app
from serviceops.cli.kedb import kedb_app
from serviceops.cli.oncall import oncall_app, page_app
from serviceops.cli.problems import problem_app
from serviceops.cli.requests import catalogue_app, request_app
from serviceops.cli.silences import silence_app
from serviceops.settings import get_settings
from serviceops.store.db import migrate

# Locals in a traceback could hold tokens: never show them.
app = typer.Typer(
    help="ITIL Service Operation as Prefect flows.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The serviceops database.", no_args_is_help=True)
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
app.add_typer(silence_app, name="silence", no_args_is_help=True)
app.add_typer(problem_app, name="problem", no_args_is_help=True)
app.add_typer(kedb_app, name="kedb", no_args_is_help=True)
app.add_typer(oncall_app, name="oncall", no_args_is_help=True)
app.add_typer(page_app, name="page", no_args_is_help=True)


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
        typer.echo(output.notification_table(notifications))


if __name__ == "__main__":
    app()
