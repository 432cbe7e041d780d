"""`serviceops identity ...`: the directory access management verifies against and
review-access acts on (who is a leaver or a mover, who manages whom, which groups), and that
says who someone is on a channel: a Slack approval button counts only for a person whose
Slack user id is here.

In production an HR or identity-provider feed calls `identity set`; the table is the
interface, so any feed that writes it works.
"""

from typing import Annotated

import typer
from pydantic_core import ErrorDetails

from serviceops.cli.common import JsonOpt, echo_json, fail, option_name, transaction, validated
from serviceops.domain.request import Identity, IdentityStatus
from serviceops.settings import get_settings
from serviceops.store.request import IdentityRepository

identity_app = typer.Typer(help="The directory of people access management relies on.")

OPTIONS = {"slack_user_id": "--slack-id"}  # fields whose option is not their name


def _option(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error["loc"] else "input"
    return OPTIONS.get(field, option_name(field))


@identity_app.command("set")
def identity_set(
    user: Annotated[str, typer.Argument(help="User name as requests name it.")],
    status: Annotated[
        IdentityStatus | None, typer.Option(help="active, mover or leaver (new: active).")
    ] = None,
    manager: Annotated[str | None, typer.Option(help="Who approves as manager.")] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="A group (repeat for several).")
    ] = None,
    slack_id: Annotated[
        str | None,
        typer.Option("--slack-id", help="Slack user id (e.g. U0123ABCD): their button presses."),
    ] = None,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone, E.164 (e.g. +4915112345678).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a person, or change what is given of one (a leaver's rights go at the next
    review-access; a mover's are flagged for review)."""
    given = {"status": status, "manager": manager, "groups": group, "slack_user_id": slack_id,
             "email": email, "phone": phone}  # fmt: skip
    with transaction(get_settings()) as session:
        directory = IdentityRepository(session)
        known = directory.get(user)
        current = known.model_dump() if known else {"user": user}
        changes = {field: value for field, value in given.items() if value is not None}
        identity = validated(Identity, name_of=_option, **(current | changes))
        holder = None if slack_id is None else directory.by_slack_id(slack_id)
        if holder is not None and holder.user != user:
            fail(f"Slack id {slack_id} is {holder.user}'s already")
        saved = directory.upsert(identity)
    if as_json:
        echo_json({"identity": saved.model_dump(mode="json")})
        return
    typer.echo(_line(saved))


@identity_app.command("list")
def identity_list(as_json: JsonOpt = False) -> None:
    """Everyone in the directory."""
    with transaction(get_settings()) as session:
        people = sorted(IdentityRepository(session).all().values(), key=lambda i: i.user)
    if as_json:
        echo_json({"identities": [p.model_dump(mode="json") for p in people], "count": len(people)})
        return
    for person in people:
        typer.echo(_line(person))


def _line(identity: Identity) -> str:
    groups = ",".join(identity.groups) or "-"
    contacts = (
        f"slack={identity.slack_user_id or '-'}  email={identity.email or '-'}  "
        f"phone={identity.phone or '-'}"
    )
    manager = identity.manager or "-"
    return f"{identity.user}  {identity.status.value}  manager={manager}  {groups}  {contacts}"
