"""The Acknowledge button of a page's direct message: pressed by a directory user who was
paged or is in the page's group, it starts acknowledge-page as them (the ladder stops, the
incident is theirs); anyone else is told why, and nothing changes."""

import json
import re
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from serviceops import deployment_names as names
from serviceops.application.pages import acknowledge_refusal
from serviceops.domain.oncall import PAGE_NUMBER, AcknowledgePage
from serviceops.domain.provenance import Provenance
from serviceops.gateway.slack_incidents import Reply, Unknown, person_of, start_vouched
from serviceops.gateway.slack_payload import first_action

PAGE_ACTION = "page_ack"


def page_action(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The page's Acknowledge action of a block_actions payload, else None."""
    return first_action(payload, lambda action_id: action_id == PAGE_ACTION)


async def pressed(request: Request, payload: dict[str, Any], action: dict[str, Any]) -> Reply:
    number = _number(action.get("value"))
    if number is None:
        return Reply("This button is not a serviceops page button.")
    try:
        person, known = await person_of(request, payload)
    except Unknown as refused:
        return Reply(str(refused))
    sessions: sessionmaker[Session] = request.app.state.sessions
    refusal = await anyio.to_thread.run_sync(_refusal, sessions, number, person)
    if refusal is not None:
        return Reply(refusal)
    command = AcknowledgePage(number=number, actor=person)
    start = partial(_start, request, command, known)
    return Reply(f"Acknowledging {command.number} as {person}.", start=start)


def _number(value: object) -> str | None:
    """The page number a button carries, None unless it is one."""
    try:
        number = json.loads(value).get("number") if isinstance(value, str) else None
    except (ValueError, AttributeError):
        return None
    return number if isinstance(number, str) and re.fullmatch(PAGE_NUMBER, number) else None


def _refusal(sessions: sessionmaker[Session], number: str, person: str) -> str | None:
    with sessions.begin() as session:
        return acknowledge_refusal(session, number, person)


async def _start(request: Request, command: AcknowledgePage, known: Provenance) -> str | None:
    parameters = {"command": command.model_dump(mode="json")}
    vouched = (known, command.actor, command.number)
    if await start_vouched(request, names.ACKNOWLEDGE_PAGE, parameters, vouched):
        return None
    return f"{command.number}: could not acknowledge just now; please press again."
