"""`serviceops events ...` and `serviceops alerts ...`: what monitoring sent and the alerts
event management correlated it into, from a terminal.

Reads only: events arrive through the gateway and are decided by process-events. `--json`
prints the documents of serviceops.domain.views.events, as the read API returns them. A number
that is not an event's or an alert's is a usage error (exit 2); one that does not exist is
a failure (exit 1).
"""

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer

from serviceops.application.events import alert_document, alert_page, event_document, event_page
from serviceops.cli.common import (
    EXIT_USAGE,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    echo_json,
    fail,
    transaction,
)
from serviceops.cli.output import clip, fields, history, table, when
from serviceops.domain.event import AlertState, EventStatus
from serviceops.domain.views import (
    AlertDocument,
    AlertView,
    EventView,
)
from serviceops.settings import get_settings
from serviceops.store.base import RecordNotFound

events_app = typer.Typer(help="Events from monitoring and checks, and the alerts they became.")
alerts_app = typer.Typer(help="Alerts: events correlated per service or CI.")

EVENT_NUMBER = re.compile(r"^EVT-\d{6,}$")
ALERT_NUMBER = re.compile(r"^ALR-\d{6,}$")

NumberArg = Annotated[
    str, typer.Argument(metavar="NUMBER", help="An event (EVT-000123) or an alert (ALR-000123).")
]


# --------------------------------------------------------------------------- events


@events_app.command("list")
def events_list(
    source: Annotated[str | None, typer.Option(help="Exact source, e.g. prometheus.")] = None,
    alert: Annotated[str | None, typer.Option(help="Events of this alert (ALR-000123).")] = None,
    status: Annotated[EventStatus | None, typer.Option(help="firing or resolved.")] = None,
    limit: LimitOpt = 100,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Events, newest first."""
    if alert is not None and not ALERT_NUMBER.match(alert):
        fail(
            f"invalid --alert: expected an alert number like ALR-000123 (got {alert!r})", EXIT_USAGE
        )
    with transaction(get_settings()) as session:
        page = event_page(
            session, source=source, alert=alert, status=status, limit=limit, offset=offset
        )
    if as_json:
        echo_json(page)
        return
    typer.echo(_event_table(page.events) if page.events else "no events")


@events_app.command("show")
def events_show(number: NumberArg, as_json: JsonOpt = False) -> None:
    """One event with its details, or one alert with its latest events and its history."""
    if EVENT_NUMBER.match(number):
        with transaction(get_settings()) as session:
            try:
                document = event_document(session, number)
            except RecordNotFound as exc:
                fail(str(exc))
        if as_json:
            echo_json(document)
        else:
            typer.echo(_event_detail(document.event))
        return
    if ALERT_NUMBER.match(number):
        _show_alert(number, as_json)
        return
    fail(f"invalid NUMBER: expected EVT-000123 or ALR-000123 (got {number!r})", EXIT_USAGE)


# --------------------------------------------------------------------------- alerts


@alerts_app.command("list")
def alerts_list(
    state: Annotated[AlertState | None, typer.Option(help="open, resolved or closed.")] = None,
    limit: LimitOpt = 100,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Alerts, newest first."""
    with transaction(get_settings()) as session:
        page = alert_page(session, state=state, limit=limit, offset=offset)
    if as_json:
        echo_json(page)
        return
    typer.echo(_alert_table(page.alerts) if page.alerts else "no alerts")


@alerts_app.command("show")
def alerts_show(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="e.g. ALR-000123")],
    as_json: JsonOpt = False,
) -> None:
    """One alert with its latest events, its actions and its history (as `events show`)."""
    if not ALERT_NUMBER.match(number):
        fail(f"invalid NUMBER: expected ALR-000123 (got {number!r})", EXIT_USAGE)
    _show_alert(number, as_json)


def _show_alert(number: str, as_json: bool) -> None:
    with transaction(get_settings()) as session:
        try:
            document = alert_document(session, number)
        except RecordNotFound as exc:
            fail(str(exc))
    if as_json:
        echo_json(document)
    else:
        typer.echo(_alert_detail(document))


# --------------------------------------------------------------------------- human output


def _at(instant: datetime | None) -> str:
    """To the second: events of one storm arrive within the same minute."""
    return "-" if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _verdict(view: EventView) -> str:
    if view.pending:
        return "pending"
    if view.dropped:
        return "dropped"
    return "duplicate" if view.duplicate else (view.response or "-")


def _event_table(views: Sequence[EventView]) -> str:
    rows = [
        [
            view.number,
            _at(view.received_at),
            view.status,
            view.severity,
            view.source,
            view.ci or view.service or "-",
            clip(view.check, 30),
            _verdict(view),
            view.alert_number or "-",
            clip(view.summary, 50),
        ]
        for view in views
    ]
    headers = [
        "number",
        "received (UTC)",
        "status",
        "severity",
        "source",
        "resource",
        "check",
        "verdict",
        "alert",
        "summary",
    ]
    return table(headers, rows)


def _event_detail(view: EventView) -> str:
    pairs = [
        ("status", view.status),
        ("severity", view.severity),
        ("source", view.source),
        ("service", view.service or "-"),
        ("ci", view.ci or "-"),
        ("check", view.check),
        ("fingerprint", view.fingerprint),
        ("occurred", _at(view.occurred_at)),
        ("received", _at(view.received_at)),
        ("processed", "pending" if view.pending else _at(view.processed_at)),
        ("significance", view.significance or "-"),
        ("response", view.response or "-"),
        ("verdict", _verdict(view)),
        ("alert", view.alert_number or "-"),
    ]
    details = json.dumps(view.details, indent=2, sort_keys=True, default=str)
    indented = "\n".join(f"  {line}" for line in details.splitlines())
    return f"{view.number}  {clip(view.summary, 80)}\n{fields(pairs)}\ndetails\n{indented}"


def _alert_table(views: Sequence[AlertView]) -> str:
    rows = [
        [
            view.number,
            view.state,
            view.significance,
            view.response,
            view.key,
            str(view.event_count),
            f"{len(view.firing)}/{len(view.fingerprints)}",
            view.incident_number or "-",
            when(view.last_event_at),
            clip(view.title, 48),
        ]
        for view in views
    ]
    headers = [
        "number",
        "state",
        "significance",
        "response",
        "resource",
        "events",
        "firing",
        "incident",
        "last event",
        "title",
    ]
    return table(headers, rows)


def _alert_detail(document: AlertDocument) -> str:
    alert = document.alert
    pairs = [
        ("state", alert.state),
        ("significance", alert.significance),
        ("response", alert.response),
        ("service", alert.service or "-"),
        ("ci", alert.ci or "-"),
        ("events", f"{alert.event_count} ({alert.duplicate_count} duplicate)"),
        ("firing", f"{len(alert.firing)} of {len(alert.fingerprints)} condition(s)"),
        ("notified", str(alert.notified)),
        ("incident", alert.incident_number or "-"),
        ("first event", when(alert.first_event_at)),
        ("last event", when(alert.last_event_at)),
        ("resolved", when(alert.resolved_at)),
        ("closed", when(alert.closed_at)),
        ("reopened", str(alert.reopen_count)),
    ]
    if alert.suppressed_by:
        pairs.insert(3, ("held by", alert.suppressed_by))  # a symptom's parent, a silence
    if alert.symptoms:
        pairs.insert(3, ("symptoms", str(alert.symptoms)))
    parts = [f"{alert.number}  {clip(alert.title, 80)}", fields(pairs)]
    shown = len(document.events)
    more = f" (latest {shown} of {alert.event_count})" if shown < alert.event_count else ""
    parts.append(f"events{more}\n{_event_table(document.events)}" if shown else "events: none")
    if document.actions:
        rows = [
            [action.kind, action.runbook or "-", str(action.attempts), clip(action.note, 60)]
            for action in document.actions
        ]
        parts.append("actions\n" + table(["kind", "runbook", "attempts", "note"], rows))
    parts.append(history(document.audit))
    return "\n".join(parts)
