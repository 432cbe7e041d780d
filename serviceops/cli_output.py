"""Human output of the CLI: short aligned fields and tables, returned as text.

Formatting is kept apart from the commands so they read as "load, decide, print", and so the
`--json` documents (serviceops.domain.views) stay the only machine contract: this text may
change freely.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from serviceops.domain.views import AuditView, IncidentView
from serviceops.notify.outbox import Notification

_TITLE_WIDTH = 48
_TEXT_WIDTH = 60


def when(instant: datetime | None) -> str:
    return "-" if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def clip(text: str, width: int) -> str:
    """One line, at most `width` characters: tables stay aligned whatever people typed."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in (headers, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def fields(pairs: Sequence[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in pairs)
    return "\n".join(f"  {label.ljust(width)}  {value}" for label, value in pairs)


def _sla(level: str | None, due: datetime | None) -> str:
    if level is None:
        return "-"
    return level if due is None else f"{level} (due {when(due)})"


def incident_detail(view: IncidentView, audit: Sequence[AuditView] = ()) -> str:
    """The record as a service-desk agent reads it, then its history, oldest first."""
    pairs: list[tuple[str, str]] = [
        ("state", view.state),
        ("priority", f"{view.priority_label or 'untriaged'}"),
        ("impact/urgency", f"{view.impact}/{view.urgency}"),
        ("service", view.service),
        ("category", view.category),
        ("group", view.support_group or "-"),
        ("assignee", view.assignee or "-"),
        ("reporter", f"{view.reporter} (via {view.source})"),
        ("response SLA", _sla(view.response_sla, view.response_due_at)),
        ("resolution SLA", _sla(view.resolution_sla, view.resolution_due_at)),
        ("created", when(view.created_at)),
        ("updated", when(view.updated_at)),
    ]
    if view.major:
        pairs.insert(1, ("major", "yes"))
    if view.known_error:
        ke = view.known_error
        pairs.append(("known error", f"{ke.number} {ke.title}"))
        pairs.append(("workaround", clip(ke.workaround, 100)))
    if view.resolution_code:
        pairs.append(("resolution", f"{view.resolution_code}: {view.resolution_notes or ''}"))
    if view.reopen_count:
        pairs.append(("reopened", f"{view.reopen_count}x"))
    text = f"{view.number}  {view.title}\n{fields(pairs)}"
    if view.description:
        text += f"\n\n  {clip(view.description, 200)}"
    if audit:
        rows = [
            [
                when(entry.at),
                entry.action,
                f"{entry.from_state or '-'} -> {entry.to_state}",
                entry.actor,
                clip(entry.reason, 50),
            ]
            for entry in audit
        ]
        text += "\n\nhistory\n" + table(["when", "action", "change", "actor", "reason"], rows)
    return text


def incident_table(views: Sequence[IncidentView]) -> str:
    if not views:
        return "no incidents"
    rows = [
        [
            view.number,
            f"P{view.priority}" if view.priority else "-",
            view.state,
            view.service,
            view.support_group or "-",
            view.response_sla or "-",
            view.resolution_sla or "-",
            clip(view.title, _TITLE_WIDTH),
        ]
        for view in views
    ]
    headers = ["number", "pri", "state", "service", "group", "response", "resolution", "title"]
    return f"{table(headers, rows)}\n{len(views)} incident(s)"


def notification_table(notifications: Sequence[Notification]) -> str:
    """Outbox rows: what was (or will be) said where, and whether Slack has it yet."""
    if not notifications:
        return "no notifications"
    rows = [
        [
            str(n.id),
            when(n.created_at),
            n.record or "-",
            n.method,
            n.channel,
            str(n.attempts),
            _delivery(n),
            clip(n.text, _TEXT_WIDTH),
        ]
        for n in notifications
    ]
    headers = ["id", "created", "record", "method", "channel", "tries", "status", "text"]
    return f"{table(headers, rows)}\n{len(rows)} notification(s)"


def _delivery(notification: Notification) -> str:
    if notification.delivered_at is not None:
        return "delivered"
    if notification.last_error:
        return f"failing: {clip(notification.last_error, 30)}"
    return "pending"
