"""`serviceops identity ...`: the directory access management verifies against and
review-access acts on (who is a leaver or a mover, who manages whom, which groups).

In production an HR or identity-provider feed calls `identity set`; the table is the
interface, so any feed that writes it works.
"""

from typing import Annotated

import typer

from serviceops.cli_common import JsonOpt, echo_json, transaction, validated
from serviceops.domain.access import Identity, IdentityStatus
from serviceops.settings import get_settings
from serviceops.store.access import IdentityRepository

identity_app = typer.Typer(help="The directory of people access management relies on.")


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
    as_json: JsonOpt = False,
) -> None:
    """Add a person, or change what is given of one (a leaver's rights go at the next
    review-access; a mover's are flagged for review)."""
    given = {"status": status, "manager": manager, "groups": group}
    with transaction(get_settings()) as session:
        directory = IdentityRepository(session)
        known = directory.get(user)
        current = known.model_dump() if known else {"user": user}
        changes = {field: value for field, value in given.items() if value is not None}
        saved = directory.upsert(validated(Identity, **(current | changes)))
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
    return f"{identity.user}  {identity.status.value}  manager={identity.manager or '-'}  {groups}"
