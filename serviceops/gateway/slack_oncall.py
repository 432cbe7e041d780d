"""The `/oncall` slash command: who is on call, and overrides set from Slack.

`/oncall` (or `/oncall who [group]`) answers who is on each layer now and who next.
`/oncall override GROUP[/LAYER] PERSON FROM UNTIL [reason]` runs set-oncall-override with the
directory user behind the Slack user id as its actor (audited `via slack`), after the same
checks the flow makes (the group and layer exist, the times make sense), so a mistake is
answered at once and nothing is started.
"""

from datetime import UTC, datetime
from functools import partial

import anyio.to_thread
from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from serviceops import deployment_names as names
from serviceops.application.oncall import on_call
from serviceops.domain.oncall import SetOverride, UnknownSchedule, check_override, members
from serviceops.domain.provenance import Provenance
from serviceops.gateway.slack_incidents import Reply, Unknown, person_of, start_vouched
from serviceops.notify.render import when
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.request import IdentityRepository

USAGE = (
    "`/oncall` or `/oncall who [group]`: who is on call now and next. "
    "`/oncall override GROUP[/LAYER] PERSON FROM UNTIL [reason]`: PERSON covers from FROM "
    "(`now`, or an instant with its offset like 2026-12-04T18:00Z) until UNTIL."
)


async def command(request: Request, form: dict[str, str]) -> Reply:
    words = form.get("text", "").split()
    if not words or words[0] == "who":
        return Reply(await _who(request.app.state.sessions, words[1] if len(words) > 1 else None))
    if words[0] != "override":
        return Reply(USAGE)
    try:
        actor, known = await person_of(request, {"user": {"id": form.get("user_id", "")}})
    except Unknown as refused:
        return Reply(str(refused))
    parsed = _override(words[1:], actor)
    if isinstance(parsed, str):
        return Reply(parsed)
    refusal = await anyio.to_thread.run_sync(_refusal, request.app.state.sessions, parsed)
    if refusal is not None:
        return Reply(refusal)
    start = partial(_start, request, parsed, known)
    return Reply(
        f"{parsed.person} covers {parsed.group}/{parsed.layer} from {when(parsed.starts_at)} "
        f"until {when(parsed.ends_at)}: setting it as {actor}.",
        start=start,
    )


def _override(words: list[str], actor: str) -> SetOverride | str:
    """The override the words give, or what is wrong with them."""
    if len(words) < 4:
        return USAGE
    group, _, layer = words[0].partition("/")
    starts, ends = _instant(words[2], "FROM"), _instant(words[3], "UNTIL")
    for parsed in (starts, ends):
        if isinstance(parsed, str):
            return parsed
    try:
        return SetOverride(
            group=group,
            layer=layer or "primary",
            person=words[1],
            starts_at=starts,
            ends_at=ends,
            reason=" ".join(words[4:]),
            actor=actor,
        )
    except ValidationError as invalid:
        error = invalid.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "override"
        return f"{field}: {error['msg']}. {USAGE}"


def _instant(word: str, name: str) -> datetime | str:
    if word == "now":
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(word)
    except ValueError:
        return f"{name} {word!r} is not an instant like 2026-12-04T18:00Z. {USAGE}"
    if value.utcoffset() is None:
        return f"{name} {word!r} needs its offset (Z, +01:00). {USAGE}"
    if not 2000 <= value.year <= 2999:
        return f"{name} {word!r} is not a year a rota has. {USAGE}"
    return value


def _refusal(sessions: sessionmaker[Session], override: SetOverride) -> str | None:
    """Why the override cannot be set from Slack: the flow's own checks, and two of this
    channel's, since anyone in the workspace can type the command: only a member of the
    group (or its manager) changes its rota, and only to someone the directory knows."""
    with sessions.begin() as session:
        schedules = CatalogueRepository(session).catalogue().oncall
        known = IdentityRepository(session).get(override.person) is not None
    try:
        check_override(override, schedules)
    except (UnknownSchedule, ValueError) as refused:
        return f"{refused}; nothing was set."
    schedule = next(s for s in schedules if s.group == override.group)
    if override.actor not in members(schedule):
        return f"{override.actor} is not in {override.group}'s rota; nothing was set."
    if not known:
        return f"{override.person} is not in the directory; nothing was set."
    return None


async def _who(sessions: sessionmaker[Session], group: str | None) -> str:
    def read() -> str:
        with sessions.begin() as session:
            try:
                document = on_call(session, datetime.now(UTC), group)
            except UnknownSchedule as unknown:
                return str(unknown)
        lines = [
            f"{row.group}/{row.layer}: {row.person} until {when(row.until)}"
            + (f", then {row.next_person}" if row.next_person else "")
            for row in document.oncall
        ]
        return "\n".join(lines) or "No on-call schedules in the catalogue."

    return await anyio.to_thread.run_sync(read)


async def _start(request: Request, override: SetOverride, known: Provenance) -> str | None:
    parameters = {"override": override.model_dump(mode="json")}
    vouched = (known, override.actor, f"{override.group}/{override.layer}")
    if await start_vouched(request, names.SET_ONCALL_OVERRIDE, parameters, vouched):
        return None
    return f"The override for {override.group} could not be set just now; please try again."
