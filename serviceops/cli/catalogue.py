"""`serviceops services ...` and `serviceops checks ...`: the service catalogue (CMDB) and the
checks that watch it, from a terminal.

`services load` copies the catalogue file into the database, where flows, the gateway and
these reads find it; the file stays the source of truth, kept in version control. A file that
does not validate changes nothing and is one line naming the file and the field (exit 2).
`--json` prints the documents of serviceops.domain.views.cmdb, as the read API returns them.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from serviceops.application.catalogue import check_list, service_document, service_list
from serviceops.catalogue_file import CatalogueError, load_catalogue_file
from serviceops.cli import runs
from serviceops.cli.common import EXIT_USAGE, JsonOpt, echo_json, fail, run_or_fail, transaction
from serviceops.cli.output import clip, fields, table, when
from serviceops.domain.cmdb import CheckKind, CheckStatus
from serviceops.domain.incident import IncidentFormChoices
from serviceops.domain.views import (
    CatalogueLoaded,
    CheckList,
    CheckView,
)
from serviceops.settings import get_settings
from serviceops.store.cmdb import CatalogueRepository

services_app = typer.Typer(help="The service catalogue (CMDB): items, owners, dependencies.")
checks_app = typer.Typer(help="Operational checks: what is watched and how it went.")


@services_app.command("load")
def services_load(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="The catalogue file (default: SERVICEOPS_CMDB_FILE)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Load the catalogue file into the database: items and checks it no longer has go, the
    others are replaced; names stay, so incidents keep pointing at their items."""
    settings = get_settings()
    path = file or settings.cmdb_file
    try:
        catalogue = load_catalogue_file(path)
    except CatalogueError as exc:
        fail(str(exc), EXIT_USAGE)
    at = datetime.now(UTC)
    with transaction(settings) as session:
        repository = CatalogueRepository(session)
        before = {item.name for item in repository.items()}
        repository.replace(catalogue, at, str(path))
    after = {item.name for item in catalogue.items}
    from serviceops.application.forms import refresh_incident_form  # Prefect: 1 s to import

    loaded = CatalogueLoaded(
        source_file=str(path),
        loaded_at=at,
        items=len(catalogue.items),
        checks=len(catalogue.all_checks()),
        added=sorted(after - before),
        removed=sorted(before - after),
        incident_form=refresh_incident_form(catalogue, runs.api_url()),
    )
    if as_json:
        echo_json(loaded)
        return
    text = f"loaded {loaded.items} item(s) and {loaded.checks} check(s) from {path}"
    if loaded.added:
        text += f"\n  added: {', '.join(loaded.added)}"
    if loaded.removed:
        text += f"\n  removed: {', '.join(loaded.removed)}"
    typer.echo(text + "\n" + _form_line(loaded.incident_form))


def _form_line(form: IncidentFormChoices | None) -> str:
    if form is None:
        return (
            "log-incident's form not updated (Prefect unreachable or not deployed): "
            "housekeeping updates it within a minute"
        )
    return (
        f"log-incident's form offers {len(form.services)} service(s) and "
        f"{len(form.categories)} categories"
    )


@services_app.command("list")
def services_list(as_json: JsonOpt = False) -> None:
    """Every item with its tier, owner, dependencies and the impact of its outage."""
    with transaction(get_settings()) as session:
        services = service_list(session)
    if as_json:
        echo_json(services)
        return
    views = services.services
    if not views:
        typer.echo("no services: load a catalogue with `serviceops services load`")
        return
    rows = [
        [
            view.name,
            view.type,
            str(view.tier),
            view.owner_group,
            view.blast_radius,
            ", ".join(view.depends_on) or "-",
            str(len(view.dependents)),
        ]
        for view in views
    ]
    headers = ["name", "type", "tier", "owner", "impact", "depends on", "dependents"]
    typer.echo(f"{table(headers, rows)}\n{len(views)} service(s)")


@services_app.command("show")
def services_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The item's name.")],
    as_json: JsonOpt = False,
) -> None:
    """One item: owner, tier, endpoints, what it needs, what fails with it, its checks."""
    with transaction(get_settings()) as session:
        try:
            document = service_document(session, name)
        except KeyError:
            fail(f"no service {name}")
    if as_json:
        echo_json(document)
        return
    view = document.service
    pairs = [
        ("type", view.type),
        ("tier", str(view.tier)),
        ("owner", view.owner_group),
        ("depends on", ", ".join(view.depends_on) or "-"),
        ("dependents", ", ".join(view.dependents) or "-"),
        ("blast radius", view.blast_radius),
    ]
    pairs += [("endpoint", endpoint.url) for endpoint in view.endpoints]
    text = f"{view.name}\n{fields(pairs)}"
    if view.description:
        text += f"\n\n  {clip(view.description, 200)}"
    if document.checks:
        text += "\n\nchecks\n" + _check_table(document.checks)
    typer.echo(text)


@checks_app.command("list")
def checks_list(
    status: Annotated[
        CheckStatus | None, typer.Option(help="Only checks whose latest result has it.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every check: its kind, target, and its latest status and when."""
    with transaction(get_settings()) as session:
        checks = check_list(session, status)
    if as_json:
        echo_json(checks)
        return
    views = checks.checks
    if not views:
        typer.echo("no checks")
        return
    typer.echo(f"{_check_table(views)}\n{len(views)} check(s)")


@checks_app.command("run")
def checks_run(
    kind: Annotated[
        list[CheckKind] | None, typer.Option("--kind", help="A kind (repeat); default: all.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each run.")] = 120,
    as_json: JsonOpt = False,
) -> None:
    """Run checks now through their deployments (the same flow the schedules run, so the
    results land in the history and failures become events), then show their results."""
    kinds = kind or list(CheckKind)
    for each in kinds:
        run_or_fail(runs.checks_call(each), timeout, as_json)
    with transaction(get_settings()) as session:
        views = [view for view in check_list(session).checks if CheckKind(view.kind) in kinds]
    if as_json:
        echo_json(CheckList(checks=views, count=len(views)))
        return
    typer.echo(f"{_check_table(views)}\n{len(views)} check(s)" if views else "no checks")


def _check_table(views: list[CheckView]) -> str:
    rows = [
        [
            view.name,
            view.kind,
            clip(view.target, 50),
            view.latest.status.value if view.latest else "not run",
            when(view.latest.checked_at) if view.latest else "-",
            clip(view.latest.summary, 50) if view.latest else "",
        ]
        for view in views
    ]
    return table(["name", "kind", "target", "status", "when", "summary"], rows)
