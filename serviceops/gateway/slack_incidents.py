"""Slack as a control surface for incidents: the buttons on an incident's message, the modals
they open, and the `/incident` command's modal that logs one.

A press or a submission arrives signed (the v0 signature, checked by the caller) and is done
by the directory user whose Slack user id Slack sends, never by a display name; a Slack user
the directory does not have is told so and nothing changes. Each runs the same deployment as
the Prefect UI's form and the CLI (application.incident_runs), with that person as the actor
or the reporter; the run updates the incident's message in place and replies in its thread.
A step that needs more than who acts (Resolve: code and notes; Escalate; Pend; Reopen), and
logging an incident, first open a modal (views.open, within the 3 s Slack allows) made from
the same model as the form (gateway.slack_modals); the submission is validated by that model
and a bad field is shown on the modal, not run.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import Request
from pydantic import ValidationError
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session, sessionmaker

from serviceops.application import approvals, incident_runs
from serviceops.application.forms import incident_choices
from serviceops.application.tickets import start_on_ticket
from serviceops.domain.incident import IncidentCommand, IncidentDraft, Source
from serviceops.domain.incident.buttons import ASKS_FIRST, STEP_ACTION, StepButton
from serviceops.domain.provenance import Channel, Provenance
from serviceops.gateway.slack_modals import field_errors, modal, submitted_values
from serviceops.gateway.slack_payload import first_action, slack_user_id
from serviceops.notify.slack import make_client
from serviceops.settings import Settings

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 20
STEP_MODAL = "incident_step"
LOG_MODAL = "log_incident"
WHO_ACTS = {"number", "actor"}
REPORTED = {"reporter", "source", "major"}


@dataclass(frozen=True)
class Reply:
    """What to answer Slack at once (`text` for a press, `answer` for a modal submission) and
    the run to start after the answer: Slack wants it within 3 s, creating a run can take
    longer on a busy server. `start` returns what to tell the person when it could not."""

    text: str = ""
    answer: dict[str, Any] = field(default_factory=dict)
    start: Callable[[], Awaitable[str | None]] | None = None


class Unknown(Exception):
    """The presser is not in the directory (the message says how to add them)."""


def step_action(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The first incident-step action of a block_actions payload, else None."""
    return first_action(payload, lambda action_id: action_id.startswith(f"{STEP_ACTION}:"))


async def pressed(request: Request, payload: dict[str, Any], action: dict[str, Any]) -> Reply:
    """What to tell the presser (only they see it), and the run to start."""
    value = action.get("value")
    try:
        button = StepButton.model_validate_json(value if isinstance(value, str) else "")
    except ValidationError:
        return Reply("This button is not a serviceops incident button.")
    command = button.command()
    if command is None:
        return Reply(f"{button.number}: this serviceops version has no step {button.step}.")
    try:
        actor, known = await person_of(request, payload)
    except Unknown as refused:
        return Reply(str(refused))
    if command in ASKS_FIRST:
        metadata = {"number": button.number, "step": button.step}
        view = modal(
            command,
            callback_id=STEP_MODAL,
            title=f"{command.label} {button.number}",
            submit=command.label,
            metadata=metadata,
            leave_out=WHO_ACTS,
        )
        return Reply(await _open(request, payload, view) or "")
    step = command(number=button.number, actor=actor)
    return Reply(_starting(step), start=partial(_start, request, step, known))


async def submitted(request: Request, payload: dict[str, Any]) -> Reply:
    """The answer to a view_submission ({} closes the modal, errors keep it open showing the
    field that failed), and the run to start once it closed."""
    view = payload.get("view") if isinstance(payload.get("view"), dict) else {}
    callback = view.get("callback_id")
    if callback not in (STEP_MODAL, LOG_MODAL):
        return Reply()
    try:
        person, known = await person_of(request, payload)
    except Unknown as refused:
        return Reply(answer=_errors(view, str(refused)))
    values = submitted_values(view)
    if callback == LOG_MODAL:
        return _log(request, values | {"reporter": person, "source": Source.USER}, known)
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
        button = StepButton.model_validate(metadata)
    except (ValueError, ValidationError):
        return Reply(answer=_errors(view, "This modal is not a serviceops incident step."))
    command = button.command()
    if command is None:
        return Reply(answer=_errors(view, f"No step {button.step}."))
    try:
        step = command.model_validate(values | {"number": button.number, "actor": person})
    except ValidationError as invalid:
        fields = set(command.model_fields) - WHO_ACTS
        return Reply(answer=_invalid(invalid, fields))
    return Reply(start=partial(_start, request, step, known))


async def open_log_modal(request: Request, form: dict[str, str]) -> str:
    """`/incident`: the log-incident modal, with the CMDB's services and CIs and the policy's
    categories as selects (text after the command is not used)."""
    payload = {"user": {"id": form.get("user_id", "")}, "trigger_id": form.get("trigger_id")}
    try:
        await person_of(request, payload)
    except Unknown as refused:
        return str(refused)
    choices = await incident_choices(request.app.state.sessions, request.app.state.prefect_api_url)
    offered = {"service": choices.services, "category": choices.categories}
    if choices.cis:
        offered["ci"] = choices.cis
    view = modal(
        IncidentDraft,
        callback_id=LOG_MODAL,
        title="Log an incident",
        submit="Log",
        metadata={},
        leave_out=REPORTED,
        choices={name: options for name, options in offered.items() if options},
    )
    return await _open(request, payload, view) or ""


def _log(request: Request, values: dict[str, Any], known: Provenance) -> Reply:
    try:
        draft = IncidentDraft.model_validate(values)
    except ValidationError as invalid:
        return Reply(answer=_invalid(invalid, set(IncidentDraft.model_fields) - REPORTED))
    return Reply(start=partial(_start_log, request, draft, known))


async def _start_log(request: Request, draft: IncidentDraft, known: Provenance) -> str | None:
    try:
        await incident_runs.start_log_incident(
            request.app.state.sessions,
            draft,
            known,
            api_url=request.app.state.prefect_api_url,
            timeout_s=START_TIMEOUT_S,
        )
    except Exception as exc:  # Prefect down or slow: the person tries again
        logger.warning("log-incident not started from Slack: %s", type(exc).__name__)
        return f"Your incident {draft.title!r} could not be logged just now; please try again."
    return None


async def start_vouched(
    request: Request,
    flow_name: str,
    parameters: dict[str, object],
    vouched: tuple[Provenance, str, str],
) -> bool:
    """A run of `flow_name` on a ticket (how the actor was known, the actor, the record), for
    a press, a command or a link; False when Prefect did not take it in time (nothing
    changed: the caller tells the person to try again)."""
    try:
        await start_on_ticket(
            request.app.state.sessions,
            flow_name,
            parameters,
            vouched,
            api_url=request.app.state.prefect_api_url,
            timeout_s=START_TIMEOUT_S,
        )
    except Exception as exc:  # Prefect down or slow
        logger.warning("%s not started: %s", flow_name, type(exc).__name__)
        return False
    return True


async def person_of(request: Request, payload: dict[str, Any]) -> tuple[str, Provenance]:
    """The directory user who pressed or submitted, known by their Slack user id; Unknown
    says why not."""
    user_id = slack_user_id(payload)
    if user_id is None:
        raise Unknown("Slack did not say who you are; nothing was changed.")
    sessions: sessionmaker[Session] = request.app.state.sessions
    person = await approvals.directory_user(sessions, user_id)
    if person is None:
        command = f"serviceops identity set YOUR_USER --slack-id {user_id}"
        raise Unknown(
            f"{user_id} is not in the directory, so nothing was changed. An operator adds "
            f"you with `{command}`."
        )
    return person, Provenance(via=Channel.SLACK, ref=user_id)


def _starting(command: IncidentCommand) -> str:
    return (
        f"{command.label} {command.number} as {command.actor}: starting; the incident's "
        "message shows the result."
    )


async def _start(request: Request, command: IncidentCommand, known: Provenance) -> str | None:
    """Create the step's run; what to tell the person when it could not be."""
    try:
        await incident_runs.start_step(
            request.app.state.sessions,
            command,
            known,
            api_url=request.app.state.prefect_api_url,
            timeout_s=START_TIMEOUT_S,
        )
    except Exception as exc:  # Prefect down, slow or refusing: nothing changed, say so
        logger.warning("%s not started from Slack: %s", command.flow_name, type(exc).__name__)
        return f"{command.number}: could not {command.label.lower()} just now; please try again."
    return None


async def _open(request: Request, payload: dict[str, Any], view: dict[str, Any]) -> str | None:
    """views.open for the payload's trigger; None when it opened, else what went wrong."""
    settings: Settings = request.app.state.settings
    trigger = payload.get("trigger_id")
    if settings.slack_token is None or not isinstance(trigger, str):
        return "Slack modals need SERVICEOPS_SLACK_TOKEN and a trigger; nothing was changed."
    client = make_client(settings.slack_token.get_secret_value(), settings.slack_base_url)
    try:
        await anyio.to_thread.run_sync(lambda: client.views_open(trigger_id=trigger, view=view))
    except (SlackApiError, SlackClientError, OSError) as exc:
        logger.warning("views.open failed: %s", exc)
        return "Slack did not open the form just now; please press again."
    return None


def _invalid(invalid: ValidationError, fields: set[str]) -> dict[str, Any]:
    return {"response_action": "errors", "errors": field_errors(invalid.errors(), fields)}


def _errors(view: dict[str, Any], message: str) -> dict[str, Any]:
    """A refusal shown on the modal's first input."""
    blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
    first = next((b.get("block_id") for b in blocks if isinstance(b, dict)), None)
    return {"response_action": "errors", "errors": {first or "title": message}}
