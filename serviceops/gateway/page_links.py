"""The acknowledge link of a page sent by mail or SMS (serviceops.notify.page_links signs it).

Opening the link (GET) only shows what it would do and a button: mail scanners and link
previews fetch links, and a fetch must not acknowledge anything. The button POSTs the same
link, which is checked again and starts acknowledge-page as the person the link was signed
for (the ladder stops, the incident is theirs). A link that was changed or has expired, or a
page that has ended, gets a page saying so, and nothing changes.
"""

from datetime import UTC, datetime
from html import escape
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import HTMLResponse

from serviceops import deployment_names as names
from serviceops.application.pages import acknowledge_refusal
from serviceops.domain.oncall import PAGE_NUMBER, AcknowledgePage
from serviceops.domain.provenance import Channel, Provenance
from serviceops.gateway.slack_incidents import start_vouched
from serviceops.notify.page_links import LinkRefused, check

router = APIRouter(tags=["pages"])

Number = Annotated[str, Path(pattern=PAGE_NUMBER, description="The page, e.g. PGE-000001.")]
Person = Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Expires = Annotated[str, Query(max_length=12, pattern=r"^[0-9]+$")]
Signature = Annotated[str, Query(max_length=64, pattern=r"^[0-9a-f]+$")]


@router.get("/pages/{number}/acknowledge", response_class=HTMLResponse)
async def confirm(
    request: Request, number: Number, person: Person, expires: Expires, signature: Signature
) -> HTMLResponse:
    """What the link would do, and the button that does it."""
    refused = await _refusal(request, number, person, expires, signature)
    if refused is not None:
        return refused
    return _html(
        f"Acknowledge {number}?",
        f"<p>Acknowledging stops the escalation of {escape(number)}, and the incident "
        f"becomes yours, {escape(person)}.</p>"
        '<form method="post"><button type="submit">Acknowledge</button></form>',
    )


@router.post("/pages/{number}/acknowledge", response_class=HTMLResponse)
async def acknowledge(
    request: Request, number: Number, person: Person, expires: Expires, signature: Signature
) -> HTMLResponse:
    refused = await _refusal(request, number, person, expires, signature)
    if refused is not None:
        return refused
    command = AcknowledgePage(number=number, actor=person)
    known = Provenance(via=Channel.LINK, ref=f"{number} for {person}"[:200])
    parameters = {"command": command.model_dump(mode="json")}
    if not await start_vouched(
        request, names.ACKNOWLEDGE_PAGE, parameters, (known, person, number)
    ):
        return _html(
            "Not acknowledged yet",
            f"<p>{escape(number)} could not be acknowledged just now; please try again.</p>",
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return _html(
        f"Acknowledging {number}",
        f"<p>{escape(number)} is being acknowledged by {escape(person)}: in a moment the "
        "escalation stops and the incident is yours.</p>",
        status.HTTP_202_ACCEPTED,
    )


async def _refusal(
    request: Request, number: str, person: str, expires: str, signature: str
) -> HTMLResponse | None:
    """The page that says why this link does nothing, None when it may acknowledge."""
    secret = request.app.state.settings.read_page_link_secret()
    if secret is None:
        return _html("Links are off", "<p>This gateway signs no links.</p>", 404)
    try:
        check(secret, number, person, expires, signature, datetime.now(UTC))
    except LinkRefused as refused:
        return _html("Link refused", f"<p>{escape(str(refused))}.</p>", 403)

    def why() -> str | None:
        with request.app.state.sessions.begin() as session:
            return acknowledge_refusal(session, number, person)

    reason = await anyio.to_thread.run_sync(why)
    if reason is None:
        return None
    code = 404 if reason.startswith("There is no page") else 409  # gone, or ended / not theirs
    return _html("Nothing to acknowledge", f"<p>{escape(reason)}</p>", code)


def _html(title: str, body: str, code: int = status.HTTP_200_OK) -> HTMLResponse:
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(page, status_code=code)
