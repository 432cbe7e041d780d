"""Human output of the CLI: short aligned fields and tables, returned as text.

Formatting is kept apart from the commands so they read as "load, decide, print", and so the
`--json` documents (serviceops.domain.views.incidents) stay the only machine contract: this text may
change freely.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from serviceops.domain.request import APPROVAL_ORDER, ApprovalKind, CatalogueItem
from serviceops.domain.views import (
    AuditView,
    DetectionDocument,
    IncidentView,
    ProblemView,
    RequestView,
)
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


def duration(span: timedelta) -> str:
    """5 days, 1 day, 4 h, 90 min: the largest unit that divides it."""
    seconds = int(span.total_seconds())
    if seconds and seconds % 86_400 == 0:
        days = seconds // 86_400
        return f"{days} day{'s' if days > 1 else ''}"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def history(audit: Sequence[AuditView]) -> str:
    """A record's audit trail as a table, oldest first."""
    rows = [
        [
            when(entry.at),
            entry.action,
            f"{entry.from_state or '-'} -> {entry.to_state}",
            entry.actor,
            entry.known_as,
            clip(entry.reason, 50),
        ]
        for entry in audit
    ]
    return "history\n" + table(["when", "action", "change", "actor", "via", "reason"], rows)


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
        text += "\n\n" + history(audit)
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


# --------------------------------------------------------------------------- service requests


def _approvals(item: CatalogueItem) -> str:
    """`financial over 1500, manager`: in the order they are asked, financial first."""
    names = []
    for kind in sorted(set(item.approvals), key=APPROVAL_ORDER.index):
        if kind == ApprovalKind.FINANCIAL and item.financial_threshold is not None:
            names.append(f"financial over {item.financial_threshold}")
        else:
            names.append(kind.value.replace("_", " "))
    return ", ".join(names) or "none"


def catalogue_table(items: Sequence[CatalogueItem]) -> str:
    rows = [
        [
            item.type,
            item.title,
            _approvals(item),
            ", ".join(item.fulfilment),
            duration(item.target),
        ]
        for item in items
    ]
    headers = ["type", "title", "approvals", "fulfilment", "target"]
    return f"{table(headers, rows)}\n{len(rows)} item(s)"


def _value(value: Any) -> str:
    return "-" if value is None or value == "" else clip(str(value), 80)


def flow_run(view: RequestView) -> str:
    if view.flow_run_id is not None:
        return view.flow_run_id
    return "not started yet: Prefect is unreachable; the minute's housekeeping will start it"


def _required(view: RequestView) -> str:
    if view.approvals_required:
        return ", ".join(view.approvals_required)
    return "not assessed yet" if view.state == "submitted" else "none needed"


def request_detail(view: RequestView, audit: Sequence[AuditView] = ()) -> str:
    """The request, its fields as submitted, its approvals, then its history."""
    pairs: list[tuple[str, str]] = [
        ("state", view.state),
        ("requester", f"{view.requester} (via {view.source})"),
        ("approvals", _required(view)),
    ]
    if view.pending_approval:
        due = f" (due {when(view.approval_due_at)})" if view.approval_due_at else ""
        pairs.append(("waiting for", f"{view.pending_approval} approval{due}"))
    if view.completed_steps:
        pairs.append(("steps done", ", ".join(view.completed_steps)))
    if view.rejection_reason:
        pairs.append(("rejected", clip(view.rejection_reason, 100)))
    if view.error:
        pairs.append(("error", clip(view.error, 100)))
    pairs += [
        ("due", when(view.due_at)),
        ("flow run", flow_run(view)),
        ("created", when(view.created_at)),
        ("updated", when(view.updated_at)),
    ]
    if view.fulfilled_at:
        pairs.append(("fulfilled", when(view.fulfilled_at)))
    if view.closed_at:
        pairs.append(("closed", when(view.closed_at)))
    fields_of = [(name, _value(value)) for name, value in view.details.items() if name != "type"]
    text = f"{view.number}  {view.title} ({view.type})\n{fields(pairs)}"
    if fields_of:
        text += "\n\ndetails\n" + fields(fields_of)
    if view.approvals:
        rows = [
            [
                when(a.at),
                a.kind,
                a.approver,
                "approved" if a.approved else "refused",
                clip(a.comment, 50),
            ]
            for a in view.approvals
        ]
        text += "\n\ndecisions\n" + table(["when", "kind", "approver", "decision", "comment"], rows)
    if audit:
        text += "\n\n" + history(audit)
    return text


def request_table(views: Sequence[RequestView]) -> str:
    if not views:
        return "no requests"
    rows = [
        [
            view.number,
            view.state,
            view.type,
            view.requester,
            view.pending_approval or "-",
            when(view.due_at),
            when(view.created_at),
        ]
        for view in views
    ]
    headers = ["number", "state", "type", "requester", "waiting for", "due", "created"]
    return f"{table(headers, rows)}\n{len(views)} request(s)"


def _priority(view: ProblemView) -> str:
    return f"P{view.priority}" if view.priority else "-"


def problem_table(views: Sequence[ProblemView]) -> str:
    rows = [
        [
            view.number,
            _priority(view),
            view.state,
            view.source,
            view.service or view.ci or view.category or "-",
            str(view.frequency),
            view.known_error_number or "-",
            when(view.created_at),
            clip(view.title, 48),
        ]
        for view in views
    ]
    headers = [
        "number",
        "pri",
        "state",
        "source",
        "scope",
        "incidents",
        "known error",
        "created",
        "title",
    ]
    return f"{table(headers, rows)}\n{len(views)} problem(s)"


def problem_detail(view: ProblemView) -> str:
    """The record as a problem manager reads it; long texts are clipped (--json has them)."""
    source = view.source + (f" ({view.trend_key})" if view.trend_key else "")
    pairs: list[tuple[str, str]] = [
        ("state", view.state),
        ("priority", view.priority_label or "not rated"),
        ("impact/urgency", f"{view.impact}/{view.urgency}"),
        ("source", source),
        ("service", view.service or "-"),
        ("ci", view.ci or "-"),
        ("category", view.category or "-"),
        ("reporter", view.reporter),
        ("incidents", str(view.frequency)),
    ]
    if view.major:
        pairs.insert(1, ("major", "yes"))
    optional = [
        ("root cause", view.root_cause),
        ("workaround", view.workaround),
        ("known error", view.known_error_number),
        ("change", view.change_ref),
        ("resolution", view.resolution),
        ("review", view.review_summary),
        ("lessons", view.review_lessons),
    ]
    pairs += [(label, clip(value, 100)) for label, value in optional if value]
    pairs += [("created", when(view.created_at)), ("updated", when(view.updated_at))]
    pairs += [
        (label, when(at))
        for label, at in [
            ("resolved", view.resolved_at),
            ("closed", view.closed_at),
            ("reviewed", view.reviewed_at),
        ]
        if at is not None
    ]
    text = f"{view.number}  {view.title}\n{fields(pairs)}"
    if view.description:
        text += f"\n\n  {clip(view.description, 200)}"
    if view.investigation_notes:
        text += f"\n\ninvestigation notes\n{indented(view.investigation_notes)}"
    return text


def detection_summary(document: DetectionDocument) -> str:
    parts = []
    if document.opened:
        rows = [[v.number, v.source, str(v.frequency), clip(v.title, 60)] for v in document.opened]
        table_ = table(["number", "source", "incidents", "title"], rows)
        parts.append(f"opened {len(rows)} problem(s)\n{table_}")
    if document.updated:
        rows = [[v.number, v.state, str(v.frequency), clip(v.title, 60)] for v in document.updated]
        table_ = table(["number", "state", "incidents", "title"], rows)
        parts.append(f"updated {len(rows)} problem(s)\n{table_}")
    if not parts:
        parts.append("no new trends: nothing opened or updated")
    parts.append(f"flow run {document.flow_run_id}")
    return "\n\n".join(parts)


def indented(text: str) -> str:
    """Multi-line text kept as typed (notes are appended entries), two spaces in."""
    return "\n".join(f"  {line}" for line in text.splitlines())
