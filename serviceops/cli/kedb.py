"""`serviceops kedb ...`: search and read the known error database."""

import re
from collections.abc import Sequence
from typing import Annotated

import typer

from serviceops.application.problems import known_error_document, known_error_page
from serviceops.cli.common import (
    EXIT_USAGE,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    echo_json,
    fail,
    transaction,
)
from serviceops.cli.output import clip, fields, indented, table, when
from serviceops.domain.views import (
    KnownErrorDocView,
)
from serviceops.settings import get_settings
from serviceops.store.base import RecordNotFound

kedb_app = typer.Typer(help="The known error database (KEDB): search and read known errors.")


KNOWN_ERROR_NUMBER = re.compile(r"^KE-\d{6,}$")


@kedb_app.command("search")
def kedb_search(
    text: Annotated[str, typer.Argument(help="Words of the symptom, e.g. 'mail queue stuck'.")],
    limit: Annotated[int, typer.Option(min=1, max=500, help="Best matches to show.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Active known errors sharing words with TEXT, most words in common first."""
    with transaction(get_settings()) as session:
        page = known_error_page(session, words=text, limit=limit)
    if as_json:
        echo_json(page)
    else:
        views = page.known_errors
        typer.echo(_known_error_table(views) if views else "no known error matches")


@kedb_app.command("show")
def kedb_show(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="e.g. KE-000123")],
    as_json: JsonOpt = False,
) -> None:
    """One known error in full, retired ones too."""
    if not KNOWN_ERROR_NUMBER.match(number):
        fail(f"invalid NUMBER: expected a known error like KE-000123 (got {number!r})", EXIT_USAGE)
    with transaction(get_settings()) as session:
        try:
            document = known_error_document(session, number)
        except RecordNotFound as exc:
            fail(str(exc))
    if as_json:
        echo_json(document)
    else:
        typer.echo(_known_error_detail(document.known_error))


@kedb_app.command("list")
def kedb_list(limit: LimitOpt = 100, offset: OffsetOpt = 0, as_json: JsonOpt = False) -> None:
    """Active known errors, newest first."""
    with transaction(get_settings()) as session:
        page = known_error_page(session, limit=limit, offset=offset)
    if as_json:
        echo_json(page)
    else:
        views = page.known_errors
        typer.echo(_known_error_table(views) if views else "no known errors")


# --------------------------------------------------------------------------- human output


def _known_error_table(views: Sequence[KnownErrorDocView]) -> str:
    rows = [
        [
            view.number,
            view.service or "any",
            view.ci or "-",
            view.category or "any",
            view.problem_number or "-",
            clip(view.title, 40),
            clip(view.workaround, 50),
        ]
        for view in views
    ]
    headers = ["number", "service", "ci", "category", "problem", "title", "workaround"]
    return f"{table(headers, rows)}\n{len(views)} known error(s)"


def _known_error_detail(view: KnownErrorDocView) -> str:
    pairs = [
        ("status", "active" if view.active else "retired"),
        ("service", view.service or "any"),
        ("ci", view.ci or "-"),
        ("affected cis", ", ".join(view.affected_cis) or "-"),
        ("category", view.category or "any"),
        ("problem", view.problem_number or "-"),
        ("created", when(view.created_at)),
    ]
    texts = [("symptom", view.symptom), ("root cause", view.root_cause)]
    texts.append(("workaround", view.workaround))
    blocks = [f"{label}\n{indented(text)}" for label, text in texts if text]
    return "\n\n".join([f"{view.number}  {view.title}\n{fields(pairs)}", *blocks])
