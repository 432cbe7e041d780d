"""`POST /slack/interactions` and `POST /slack/commands`: Slack's buttons, modals and the
`/incident` command. Incident buttons, their modals and the command are gateway.slack_incidents;
here the endpoints and the approval buttons: an approver pressed Approve or Reject.

The button's value (set by the request_approval template) names the request, the approval
kind and the paused fulfil-request run. After Slack's v0 signature (503 when no signing secret
is configured: only the operator can fix that, and an unsigned endpoint would let anybody
approve anything), who pressed is the directory entry of the Slack user id the payload
carries (`payload.user.id`); Slack's usernames and display names are chosen by the person and
say nothing. An id the directory does not have is refused, naming it. application.approvals then
does the rest, as it does for `serviceops request approve`: four eyes, authority (manager or
delegate, system owner, financial approver), "already decided" for a button whose approval is
no longer the pending one, and the resume of the run with an `ApprovalDecision`; the flow
records the decision. A refused press changes nothing and tells the presser why.

Slack wants an answer within 3 s, so the Prefect calls have 2.5 s. The reply is an ephemeral
message in the HTTP answer and, when the payload's `response_url` is on an allowed host
(SERVICEOPS_SLACK_RESPONSE_HOSTS, Slack's hooks.slack.com over https), posted there too:
Slack shows block_actions replies only through the response_url.
"""

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs
from uuid import UUID

import httpx
from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.background import BackgroundTask, BackgroundTasks

from serviceops.application import approvals
from serviceops.application.approvals import Outcome
from serviceops.domain.provenance import Channel, Provenance
from serviceops.domain.request import ApprovalDecision, ApprovalKind
from serviceops.gateway import slack_incidents, slack_oncall, slack_pages
from serviceops.gateway.payload import BodyTooLarge, read_body
from serviceops.gateway.signatures import SignatureError, verify_slack
from serviceops.gateway.slack_payload import first_action
from serviceops.gateway.slack_payload import slack_user_id as slack_user_id_of
from serviceops.notify.render import slack_escape
from serviceops.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/slack", tags=["slack"])

RESUME_TIMEOUT_S = 2.5
BODY_LIMIT = 64 * 1024  # Slack's interaction payloads are a few KiB
DECISIONS = {"approve": True, "reject": False}


class ApprovalButton(BaseModel):
    """The value of an Approve/Reject button, as the request_approval template writes it."""

    number: str = Field(pattern=r"^REQ-\d{6,}$")
    kind: ApprovalKind
    flow_run_id: UUID


def _ephemeral(text: str, background: BackgroundTask | None = None) -> JSONResponse:
    """An ephemeral reply: only the person who pressed the button sees it."""
    return JSONResponse(
        {"response_type": "ephemeral", "text": slack_escape(text)}, background=background
    )


class PayloadTooDeep(ValueError):
    """The payload's JSON nests deeper than the parser can follow (no Slack payload does)."""


def _invalid(msg: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": ["body", "payload"], "msg": msg, "type": "value_error"}]},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _payload(body: bytes) -> dict[str, Any]:
    """The JSON of the form field `payload`; ValueError when there is none or it is not JSON,
    PayloadTooDeep when it nests past the parser's recursion limit (a signed body of a few
    KiB can hold 20,000 brackets)."""
    form = parse_qs(body.decode("utf-8"), max_num_fields=20)
    values = form.get("payload")
    if not values:
        raise ValueError("form field payload missing")
    try:
        payload = json.loads(values[0])
    except RecursionError:
        raise PayloadTooDeep("payload nested too deeply to be a Slack payload") from None
    if not isinstance(payload, dict):
        raise ValueError("payload is not a JSON object")
    return payload


def _approval_action(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The first approve/reject action of a block_actions payload, else None."""
    return first_action(payload, lambda action_id: action_id in DECISIONS)


def response_url_target(url: object, allowed: list[str]) -> httpx.URL | None:
    """The URL to post the reply to, when a payload's response_url is on an allowed host:
    https on the default port to a listed host, or exactly a listed origin; never with
    credentials in it. The signature proves Slack sent the payload, not that every URL in
    it is Slack's: the gateway must not be made to post wherever a payload says. The URL is
    parsed once, by the client that posts, so the check and the post cannot disagree."""
    if not isinstance(url, str):
        return None
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError):  # a lone surrogate cannot be encoded
        return None
    if target.userinfo or not target.host or target.scheme not in ("http", "https"):
        return None
    if target.scheme == "https" and target.port is None and target.host in allowed:
        return target
    origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
    return target if origin in allowed else None


async def _post_to_response_url(url: httpx.URL, reply: dict[str, Any]) -> None:
    """Slack shows a block_actions reply only when posted to the interaction's response_url."""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.post(url, json=reply | {"replace_original": False})
            response.raise_for_status()
    except httpx.HTTPError as exc:
        logger.warning("Slack response_url post failed: %s", type(exc).__name__)


async def _decide(
    request: Request, button: ApprovalButton, approve: bool, approver: str, slack_user_id: str
) -> str:
    """The text to show the approver, after resuming the run if the checks allow it."""
    number, kind = button.number, button.kind.value.replace("_", " ")
    decision = ApprovalDecision(approve=approve, approver=approver, comment="")
    decided = await approvals.decide(
        request.app.state.sessions,
        number,
        decision,
        Provenance(via=Channel.SLACK, ref=slack_user_id),
        kind=button.kind,
        flow_run_id=button.flow_run_id,
        api_url=request.app.state.prefect_api_url,
        timeout_s=RESUME_TIMEOUT_S,
    )
    match decided.outcome:
        case Outcome.NO_REQUEST:
            return f"There is no request {number}."
        case Outcome.FOUR_EYES:
            return f"You cannot approve your own request {number} (four eyes)."
        case Outcome.NO_AUTHORITY:
            return f"{number}: {decided.detail}; your decision was not recorded."
        case Outcome.NOT_PENDING | Outcome.NOT_PAUSED | Outcome.NO_RUN:
            return f"{number}: the {kind} approval is already decided."
        case Outcome.UNDELIVERED:
            return f"{number}: your decision could not be delivered just now; please try again."
        case Outcome.RESUMED:
            verb = "Approved" if approve else "Rejected"
            return f"{verb} {number} ({kind} approval). Thank you."
    return f"{number}: the decision was not accepted (refused: {decided.detail})."


async def _verified_body(request: Request, timestamp: str | None, signature: str | None) -> bytes:
    """The raw body, once Slack's v0 signature over it holds (503 without a signing secret:
    an unsigned endpoint would let anybody act as anybody)."""
    settings: Settings = request.app.state.settings
    if settings.slack_signing_secret is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="Slack interactions disabled: set SERVICEOPS_SLACK_SIGNING_SECRET",
        )
    try:
        body = await read_body(request, BODY_LIMIT)
    except BodyTooLarge:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="body too large") from None
    secret = settings.slack_signing_secret.get_secret_value()
    try:
        verify_slack(secret, timestamp, signature, body, time.time())
    except SignatureError as exc:
        logger.warning("Slack request refused: %s", exc.reason)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=exc.reason) from None
    return body


@router.post("/interactions")
async def interactions(
    request: Request,
    timestamp: Annotated[str | None, Header(alias="X-Slack-Request-Timestamp")] = None,
    signature: Annotated[str | None, Header(alias="X-Slack-Signature")] = None,
) -> JSONResponse:
    """Slack's interactivity endpoint (form-encoded `payload=<json>`, signed v0): approval
    buttons, incident step buttons and the modals they open, pages' Acknowledge buttons."""
    body = await _verified_body(request, timestamp, signature)
    try:
        payload = _payload(body)
    except PayloadTooDeep as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    except (UnicodeDecodeError, ValueError):
        return _invalid("expected form field payload holding a JSON object")
    settings: Settings = request.app.state.settings
    target = response_url_target(payload.get("response_url"), settings.slack_response_hosts)
    if payload.get("type") == "view_submission":
        reply = await slack_incidents.submitted(request, payload)
        return JSONResponse(reply.answer, background=_afterwards(reply, target))
    step = slack_incidents.step_action(payload)
    action = _approval_action(payload)
    page = slack_pages.page_action(payload)
    if step is not None:
        reply = await slack_incidents.pressed(request, payload, step)
    elif page is not None:
        reply = await slack_pages.pressed(request, payload, page)
    elif action is not None:
        reply = slack_incidents.Reply(await _answer(request, payload, action))
    else:  # not ours (shortcuts, other buttons): acknowledge, do nothing
        return JSONResponse({})
    if not reply.text:  # a modal opened: nothing to say
        return JSONResponse({}, background=_afterwards(reply, target))
    background = _afterwards(reply, target)
    if target is not None:  # the answer first, then the run (whose failure follows it)
        answer = {"response_type": "ephemeral", "text": slack_escape(reply.text)}
        background = _then(BackgroundTask(_post_to_response_url, target, answer), background)
    return _ephemeral(reply.text, background)


def _afterwards(reply: "slack_incidents.Reply", target: httpx.URL | None) -> BackgroundTask | None:
    """The reply's run, started once Slack has its answer; a failure is told to the person
    through the response_url when there is one."""
    if reply.start is None:
        return None
    return BackgroundTask(_start_then_tell, reply.start, target)


async def _start_then_tell(
    start: Callable[[], Awaitable[str | None]], target: httpx.URL | None
) -> None:
    failure = await start()
    if failure is not None and target is not None:
        await _post_to_response_url(target, {"response_type": "ephemeral", "text": failure})


def _then(first: BackgroundTask, second: BackgroundTask | None) -> BackgroundTasks:
    tasks = BackgroundTasks()
    for task in (first, second):
        if task is not None:
            tasks.add_task(task.func, *task.args, **task.kwargs)
    return tasks


@router.post("/commands")
async def commands(
    request: Request,
    timestamp: Annotated[str | None, Header(alias="X-Slack-Request-Timestamp")] = None,
    signature: Annotated[str | None, Header(alias="X-Slack-Signature")] = None,
) -> JSONResponse:
    """Slack's slash commands (form-encoded, signed v0): `/incident` opens the modal that
    logs an incident, `/oncall` says who is on call and sets overrides; any other command is
    told what this endpoint knows."""
    body = await _verified_body(request, timestamp, signature)
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), max_num_fields=30).items()}
    except (UnicodeDecodeError, ValueError):
        return _invalid("expected a form-encoded slash command")
    if form.get("command") == "/oncall":
        reply = await slack_oncall.command(request, form)
        target = response_url_target(
            form.get("response_url"), request.app.state.settings.slack_response_hosts
        )
        return _ephemeral(reply.text, _afterwards(reply, target))
    if form.get("command") != "/incident":
        known = "serviceops knows /incident and /oncall"
        return _ephemeral(f"{known}, not {form.get('command') or 'that'}.")
    text = await slack_incidents.open_log_modal(request, form)
    return _ephemeral(text) if text else JSONResponse({})


async def _answer(request: Request, payload: dict[str, Any], action: dict[str, Any]) -> str:
    """What to tell the presser of an approve/reject button: the presser is looked up in the
    directory by their Slack user id before anything is decided."""
    value = action.get("value")
    try:
        button = ApprovalButton.model_validate_json(value if isinstance(value, str) else "")
    except ValidationError:
        return "This button is not a serviceops approval button."
    slack_user_id = slack_user_id_of(payload)
    if slack_user_id is None:
        return "Slack did not say who you are; the decision was not recorded."
    approver = await approvals.directory_user(request.app.state.sessions, slack_user_id)
    if approver is None:
        command = f"serviceops identity set YOUR_USER --slack-id {slack_user_id}"
        return (
            f"{slack_user_id} is not in the directory, so your decision was not recorded. "
            f"An operator adds you with `{command}`."
        )
    return await _decide(request, button, DECISIONS[action["action_id"]], approver, slack_user_id)
