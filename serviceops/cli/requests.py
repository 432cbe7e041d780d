"""`serviceops request ...` and `serviceops catalogue list`: service requests from a terminal.

A submission takes the webhook's path (application.intake): the request is recorded in one
transaction first and fulfil-request is started after, so a request submitted while Prefect is
down is kept and started later by the minute's housekeeping. Approve and reject take the Slack
button's path (application.approvals): the same checks (four eyes, the approver's authority), then
the suspended run is resumed with the decision, which the flow records. Reads go straight to
the database. Prefect is imported only by the commands that talk to it.
"""

import asyncio
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel, Field
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session

from serviceops.application.requests import request_document, request_page
from serviceops.cli import output, runs
from serviceops.cli.common import (
    EXIT_USAGE,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    cli_provenance,
    database_errors,
    echo_json,
    fail,
    option_name,
    transaction,
    validated,
)
from serviceops.domain.request import (
    ApprovalDecision,
    RequestState,
    RequestSubmission,
    RequestType,
    catalogue,
    catalogue_type,
)
from serviceops.domain.views import (
    CatalogueDocument,
    DecisionDocument,
    DecisionView,
    RequestView,
    SubmittedDocument,
)
from serviceops.settings import get_settings
from serviceops.store.base import RecordNotFound
from serviceops.store.db import sessions_for
from serviceops.store.request import RequestRepository

if TYPE_CHECKING:
    from serviceops.application.approvals import Decided

request_app = typer.Typer(help="Service requests: the catalogue, submit, approve, read.")
catalogue_app = typer.Typer(help="The service catalogue: what can be requested.")

# A person deciding at a terminal can wait longer than Slack's 3 s.
RESUME_TIMEOUT_S = 30.0

NumberArg = Annotated[str, typer.Argument(metavar="NUMBER", help="e.g. REQ-000123")]
ApproverOpt = Annotated[
    str,
    typer.Option(
        help="Who decides, as the directory names them: the requester's manager or a delegate, "
        "the system's owner, or a financial approver (never the requester)."
    ),
]


class RequestNumber(BaseModel):
    number: str = Field(pattern=r"^REQ-\d{6,}$")


@contextmanager
def _serviceops_log(show_warnings: bool) -> Iterator[None]:
    """While a command talks to Prefect: serviceops's warnings (e.g. why fulfil-request could
    not be started) as `warning: ...` lines on stderr, or not at all when the command's own
    error line says it already; never Python's bare last-resort output."""
    handler: logging.Handler = logging.NullHandler()
    if show_warnings:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        handler.setLevel(logging.WARNING)
    logger = logging.getLogger("serviceops")
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _view(session: Session, number: str) -> RequestView:
    try:
        return RequestView.of(RequestRepository(session).get(number))
    except RecordNotFound as exc:
        fail(str(exc))


# --------------------------------------------------------------------------- catalogue


@catalogue_app.command("list")
def catalogue_list(as_json: JsonOpt = False) -> None:
    """What can be requested: type, title, approvals, fulfilment steps, target time."""
    items = catalogue()
    if as_json:
        echo_json(CatalogueDocument(items=items))
    else:
        typer.echo(output.catalogue_table(items))


# The same command under `request`, where people look for it first.
request_app.command("catalogue", help="The catalogue (the same as `catalogue list`).")(
    catalogue_list
)


# --------------------------------------------------------------------------- reads


@request_app.command("show")
def request_show(number: NumberArg, as_json: JsonOpt = False) -> None:
    """One request with its history."""
    with transaction(get_settings()) as session:
        try:
            document = request_document(session, number)
        except RecordNotFound as exc:
            fail(str(exc))
    if as_json:
        echo_json(document)
    else:
        typer.echo(output.request_detail(document.request, document.audit))


@request_app.command("list")
def request_list(
    state: Annotated[RequestState | None, typer.Option(help="Lifecycle state.")] = None,
    type: Annotated[RequestType | None, typer.Option(help="Catalogue item.")] = None,
    requester: Annotated[str | None, typer.Option(help="Exact requester.")] = None,
    limit: LimitOpt = 100,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Service requests, newest first."""
    with transaction(get_settings()) as session:
        page = request_page(
            session, state=state, type=type, requester=requester, limit=limit, offset=offset
        )
    if as_json:
        echo_json(page)
    else:
        typer.echo(output.request_table(page.requests))


# --------------------------------------------------------------------------- submit


def _submission_option(error: ErrorDetails) -> str:
    """`--field cost` for a catalogue field, `--type` for the item itself, else the option."""
    loc = error["loc"]
    if loc and loc[0] == "details":
        return f"--field {loc[2]}" if len(loc) > 2 else "--type"
    return option_name(str(loc[0]) if loc else "input")


def _details(type_name: str, fields: list[str]) -> dict[str, str]:
    """`name=value` pairs as the catalogue item's fields; unknown or repeated names exit 2."""
    details = {"type": type_name}
    item = catalogue_type(type_name)
    for pair in fields:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            fail(f"invalid --field {pair!r}: expected name=value", EXIT_USAGE)
        if name == "type":
            fail("invalid --field type: the request type is --type", EXIT_USAGE)
        if name in details:
            fail(f"invalid --field {name}: given twice", EXIT_USAGE)
        if item is not None and name not in item.model_fields:
            known = ", ".join(f for f in item.model_fields if f != "type")
            fail(f"invalid --field {name}: {type_name} has no such field ({known})", EXIT_USAGE)
        details[name] = value
    return details


@request_app.command("submit")
def request_submit(
    type: Annotated[str, typer.Option(help="Catalogue item, e.g. new_laptop (see `catalogue`).")],
    requester: Annotated[str, typer.Option(help="Who asks (cannot approve it).")],
    field: Annotated[
        list[str] | None,
        typer.Option(help="A field of the item as name=value; repeat for each field."),
    ] = None,
    external_id: Annotated[
        str | None,
        typer.Option("--id", help="Your own id for it: submitting it again changes nothing."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a service request and start its fulfilment (fulfil-request)."""
    submission = validated(
        RequestSubmission,
        name_of=_submission_option,
        requester=requester,
        details=_details(type, field or []),
        id=external_id,
    )
    from serviceops.application import intake

    settings = get_settings()
    with database_errors(settings), _serviceops_log(show_warnings=True):
        accepted = intake.submit(
            sessions_for(settings.resolved_database_url),
            submission,
            source="cli",
            key=external_id,
            at=datetime.now(UTC),
            known=cli_provenance(),
            api_url=runs.api_url(),
        )
        with transaction(settings) as session:
            view = _view(session, accepted.body["number"])
    # The run is noted on the request; should noting it have failed, the answer still knows it.
    view = view.model_copy(update={"flow_run_id": view.flow_run_id or accepted.body["flow_run_id"]})
    if as_json:
        echo_json(SubmittedDocument(request=view, duplicate=not accepted.first))
        return
    if accepted.first:
        typer.echo(f"{view.number} recorded: {view.title} for {view.requester} ({view.state})")
    else:
        typer.echo(f"{view.number} was submitted before with --id {external_id}: nothing new")
    typer.echo(f"  flow run  {output.flow_run(view)}")


# --------------------------------------------------------------------------- approve, reject


def _refusal(decided: "Decided", approver: str, url: str) -> str | None:
    """Why the decision was not delivered, as the operator should read it; None if it was."""
    from serviceops.application.approvals import Outcome

    number, kind = decided.number, decided.kind
    state = "" if decided.request is None else decided.request.state.value
    match decided.outcome:
        case Outcome.RESUMED:
            return None
        case Outcome.NO_REQUEST:
            return f"no request {number}"
        case Outcome.FOUR_EYES:
            return f"{approver} requested {number} and cannot decide it (four eyes)"
        case Outcome.NO_AUTHORITY:
            return f"{number}: {decided.detail}"
        case Outcome.NOT_PENDING:
            return f"{number} is {state}, nothing to decide"
        case Outcome.NO_RUN:
            return (
                f"{number} awaits the {kind} approval but has no flow run noted yet; "
                "try again in a minute"
            )
        case Outcome.NOT_PAUSED:
            return (
                f"{number}: flow run {decided.flow_run_id} is {decided.detail}, not waiting "
                f"for a decision (the {kind} approval may have just been decided; "
                f"see `serviceops request show {number}`)"
            )
        case Outcome.UNDELIVERED:
            return f"{number}: the decision could not be delivered to {url}: {decided.detail}"
    return f"{number}: Prefect refused the decision: {decided.detail}"


def _decide(number: str, decision: ApprovalDecision, as_json: bool) -> None:
    from serviceops.application import approvals

    settings = get_settings()
    url = runs.api_url()
    with database_errors(settings), _serviceops_log(show_warnings=False):
        decided = asyncio.run(
            approvals.decide(
                sessions_for(settings.resolved_database_url),
                number,
                decision,
                cli_provenance(),
                api_url=url,
                timeout_s=RESUME_TIMEOUT_S,
            )
        )
    problem = _refusal(decided, decision.approver, url)
    if problem is not None:
        fail(problem)
    assert decided.kind is not None and decided.flow_run_id is not None
    with transaction(settings) as session:
        view = _view(session, number)
    if as_json:
        echo_json(
            DecisionDocument(
                request=view,
                decision=DecisionView(
                    kind=decided.kind.value,
                    approve=decision.approve,
                    approver=decision.approver,
                    comment=decision.comment,
                    flow_run_id=str(decided.flow_run_id),
                ),
            )
        )
        return
    verb = "Approved" if decision.approve else "Rejected"
    why = f": {decision.comment}" if decision.comment else ""
    typer.echo(f"{verb} {number} ({decided.kind.value} approval) as {decision.approver}{why}")
    typer.echo(
        f"  flow run  {decided.flow_run_id} resumed; fulfil-request records the decision "
        "as it carries on"
    )


@request_app.command("approve")
def request_approve(
    number: NumberArg,
    approver: ApproverOpt,
    comment: Annotated[str, typer.Option(help="Shown to the requester.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Approve the approval the request waits for: resumes its suspended run."""
    number = validated(RequestNumber, number=number).number
    decision = validated(ApprovalDecision, approve=True, approver=approver, comment=comment)
    _decide(number, decision, as_json)


@request_app.command("reject")
def request_reject(
    number: NumberArg,
    approver: ApproverOpt,
    comment: Annotated[str, typer.Option(help="Why it is rejected (shown to the requester).")],
    as_json: JsonOpt = False,
) -> None:
    """Reject the request at the approval it waits for: resumes its run, which ends it."""
    number = validated(RequestNumber, number=number).number
    decision = validated(ApprovalDecision, approve=False, approver=approver, comment=comment)
    if not decision.comment.strip():
        fail("invalid --comment: say why it is rejected", EXIT_USAGE)
    _decide(number, decision, as_json)
