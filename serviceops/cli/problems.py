"""`serviceops problem ...` and `serviceops kedb ...`: problem management from a terminal.

Reads (`problem list/show`, `kedb search/show/list`) go straight to the serviceops database.
Every change (`problem open`, each lifecycle step, `problem detect`) runs the deployed flow
and waits for it, as `serviceops incident ...` does, so a change made here is the same
audited, retried, visible-in-the-UI run as one made from the Prefect UI's form. Input is
validated with the domain's command models first: a bad value is one line naming the option,
exit 2, and nothing runs. A step the problem's state does not allow fails in the flow (the
transition table decides there), and its message is the error line, exit 1. `--json` prints
the documents of serviceops.domain.views.problems, as the read API returns them."""

import re
from collections.abc import Callable
from typing import Annotated

import typer
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session

from serviceops import deployment_names as names
from serviceops.application.problems import problem_document, problem_page
from serviceops.cli import runs
from serviceops.cli.common import (
    EXIT_USAGE,
    ActorOpt,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    TimeoutOpt,
    echo_json,
    fail,
    option_name,
    run_or_fail,
    transaction,
    validated,
    vouched,
)
from serviceops.cli.output import detection_summary, history, problem_detail, problem_table
from serviceops.domain.problem import (
    CategorizeProblem,
    CloseProblem,
    InvestigateProblem,
    PrioritizeProblem,
    Problem,
    ProblemCommand,
    ProblemDraft,
    ProblemState,
    RaiseKnownError,
    RecordWorkaround,
    ResolveProblem,
    ReviewProblem,
)
from serviceops.domain.views import (
    DetectionDocument,
    ProblemRunDocument,
    ProblemView,
)
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.base import RecordNotFound
from serviceops.store.problem import ProblemRepository

problem_app = typer.Typer(
    help="Problems: log, investigate, raise known errors, resolve, review, detect trends."
)
PROBLEM_NUMBER = re.compile(r"^PRB-\d{6,}$")
# Incident numbers shown in `problem show` before "and N more" (--json lists them all).
_INCIDENTS_SHOWN = 20

NumberArg = Annotated[str, typer.Argument(metavar="NUMBER", help="e.g. PRB-000123")]


# --------------------------------------------------------------------------- flow calls


def log_problem_call(draft: ProblemDraft) -> runs.FlowCall:
    return runs.FlowCall(names.LOG_PROBLEM, {"problem": runs.as_parameter(draft)})


def problem_command_call(command: ProblemCommand) -> runs.FlowCall:
    return runs.FlowCall(command.flow_name, {"command": runs.as_parameter(command)})


def detect_problems_call() -> runs.FlowCall:
    """The hourly deployment, run now: the policy block's trend rule, no parameters."""
    return runs.FlowCall(names.DETECT_PROBLEMS, {})


def _options(**renamed: str) -> Callable[[ErrorDetails], str]:
    """Name a validation error by the option the user typed where it differs from the field
    (`--text` fills `workaround`, `--change` fills `change_ref`, `--ci` fills affected_cis)."""

    def name_of(error: ErrorDetails) -> str:
        field = str(error["loc"][0]) if error["loc"] else "input"
        return renamed.get(field, option_name(field))

    return name_of


def _load(session: Session, number: str) -> Problem:
    try:
        return ProblemRepository(session).get(number)
    except RecordNotFound as exc:
        fail(str(exc))


def _check_number(number: str) -> None:
    if not PROBLEM_NUMBER.match(number):
        fail(
            f"invalid NUMBER: expected a problem number like PRB-000123 (got {number!r})",
            EXIT_USAGE,
        )


def _print_run(number: str, flow_run_id: str, as_json: bool) -> None:
    """The problem as it stands after the run."""
    with transaction(get_settings()) as session:
        view = ProblemView.of(_load(session, number))
    if as_json:
        echo_json(ProblemRunDocument(problem=view, flow_run_id=flow_run_id))
    else:
        typer.echo(problem_detail(view))
        typer.echo(f"\nflow run {flow_run_id}")


def _step(command: ProblemCommand, timeout: float, as_json: bool) -> None:
    """Run the command's flow and print the problem as it is afterwards."""
    call = vouched(problem_command_call(command), command.actor, command.number, get_settings())
    flow_run_id = run_or_fail(call, timeout, as_json)
    _print_run(command.number, flow_run_id, as_json)


# --------------------------------------------------------------------------- problem reads


@problem_app.command("list")
def problem_list(
    state: Annotated[ProblemState | None, typer.Option(help="Lifecycle state.")] = None,
    limit: LimitOpt = 100,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Problems, newest first."""
    with transaction(get_settings()) as session:
        page = problem_page(session, state=state, limit=limit, offset=offset)
    if as_json:
        echo_json(page)
    else:
        typer.echo(problem_table(page.problems) if page.problems else "no problems")


@problem_app.command("show")
def problem_show(number: NumberArg, as_json: JsonOpt = False) -> None:
    """One problem with its linked incidents and its history."""
    _check_number(number)
    with transaction(get_settings()) as session:
        try:
            document = problem_document(session, number)
        except RecordNotFound as exc:
            fail(str(exc))
    if as_json:
        echo_json(document)
        return
    text = problem_detail(document.problem)
    incidents = document.incidents
    if incidents:
        shown = ", ".join(incidents[:_INCIDENTS_SHOWN])
        more = len(incidents) - _INCIDENTS_SHOWN
        text += f"\n\nincidents\n  {shown}" + (f" and {more} more" if more > 0 else "")
    if document.audit:
        text += "\n\n" + history(document.audit)
    typer.echo(text)


# --------------------------------------------------------------------------- problem changes


@problem_app.command("open")
def problem_open(
    title: Annotated[str, typer.Option(help="One line.")],
    reporter: Annotated[str, typer.Option(help="Who logs it.")],
    description: Annotated[str, typer.Option(help="What is seen, since when, how often.")] = "",
    service: Annotated[str | None, typer.Option(help="Affected service, when one.")] = None,
    ci: Annotated[str | None, typer.Option(help="The CI suspected at fault, if known.")] = None,
    category: Annotated[str | None, typer.Option(help="e.g. network/vpn")] = None,
    impact: Annotated[str, typer.Option(help="high, medium or low")] = "medium",
    urgency: Annotated[str, typer.Option(help="high, medium or low")] = "medium",
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Log a problem by hand (runs log-problem) and print it with its number."""
    draft = validated(
        ProblemDraft,
        title=title,
        description=description,
        service=service,
        ci=ci,
        category=category,
        impact=impact,
        urgency=urgency,
        reporter=reporter,
    )
    flow_run_id = run_or_fail(log_problem_call(draft), timeout, as_json)
    with transaction(get_settings()) as session:
        touched = AuditRepository(session).records_of_flow_run(flow_run_id)
    number = next((record for record in touched if PROBLEM_NUMBER.match(record)), None)
    if number is None:
        fail(f"flow run {flow_run_id} completed but recorded no problem in this database")
    _print_run(number, flow_run_id, as_json)


@problem_app.command("categorize")
def problem_categorize(
    number: NumberArg,
    category: Annotated[str, typer.Option(help="Multi-level, e.g. network/vpn.")],
    actor: ActorOpt,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """File the problem under a category (the incidents' and the KEDB's scheme)."""
    command = validated(CategorizeProblem, number=number, actor=actor, category=category)
    _step(command, timeout, as_json)


@problem_app.command("prioritize")
def problem_prioritize(
    number: NumberArg,
    impact: Annotated[str, typer.Option(help="high, medium or low")],
    urgency: Annotated[str, typer.Option(help="high, medium or low (high anyway if frequent)")],
    actor: ActorOpt,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Rate impact and urgency: the priority follows, raised for frequent incidents."""
    command = validated(
        PrioritizeProblem, number=number, actor=actor, impact=impact, urgency=urgency
    )
    _step(command, timeout, as_json)


@problem_app.command("investigate")
def problem_investigate(
    number: NumberArg,
    notes: Annotated[str, typer.Option(help="What was looked at and found.")],
    actor: ActorOpt,
    root_cause: Annotated[
        str | None, typer.Option(help="The underlying cause, once diagnosed.")
    ] = None,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Record findings (and the root cause once known); a new problem starts investigation."""
    command = validated(
        InvestigateProblem, number=number, actor=actor, notes=notes, root_cause=root_cause
    )
    _step(command, timeout, as_json)


@problem_app.command("workaround")
def problem_workaround(
    number: NumberArg,
    text: Annotated[str, typer.Option(help="Steps that restore service until the fix.")],
    actor: ActorOpt,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Record (or replace) the workaround; a raised known error gets it too."""
    command = validated(
        RecordWorkaround,
        name_of=_options(workaround="--text"),
        number=number,
        actor=actor,
        workaround=text,
    )
    _step(command, timeout, as_json)


@problem_app.command("known-error")
def problem_known_error(
    number: NumberArg,
    title: Annotated[str, typer.Option(help="The known error, in one line.")],
    symptom: Annotated[str, typer.Option(help="What users see: what incidents match on.")],
    root_cause: Annotated[str, typer.Option(help="The underlying cause.")],
    workaround: Annotated[str, typer.Option(help="What restores service meanwhile.")],
    actor: ActorOpt,
    ci: Annotated[
        list[str] | None,
        typer.Option(help="Another CI showing the symptom (repeat for several)."),
    ] = None,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Raise a known error: a KEDB record that diagnosis offers to matching incidents."""
    command = validated(
        RaiseKnownError,
        name_of=_options(affected_cis="--ci"),
        number=number,
        actor=actor,
        title=title,
        symptom=symptom,
        root_cause=root_cause,
        workaround=workaround,
        affected_cis=ci or [],
    )
    _step(command, timeout, as_json)


@problem_app.command("resolve")
def problem_resolve(
    number: NumberArg,
    change: Annotated[str, typer.Option(help="The change that removed it, e.g. CHG-000123.")],
    resolution: Annotated[str, typer.Option(help="What was changed.")],
    actor: ActorOpt,
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """The root cause is removed through a change."""
    command = validated(
        ResolveProblem,
        name_of=_options(change_ref="--change"),
        number=number,
        actor=actor,
        change_ref=change,
        resolution=resolution,
    )
    _step(command, timeout, as_json)


@problem_app.command("close")
def problem_close(
    number: NumberArg,
    actor: ActorOpt,
    note: Annotated[str, typer.Option(help="Closing note, e.g. how the fix was verified.")] = "",
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Close a resolved problem; its linked incidents still open are resolved with it."""
    _step(validated(CloseProblem, number=number, actor=actor, note=note), timeout, as_json)


@problem_app.command("review")
def problem_review(
    number: NumberArg,
    summary: Annotated[str, typer.Option(help="What went well and what went badly.")],
    actor: ActorOpt,
    lessons: Annotated[str, typer.Option(help="What to do differently next time.")] = "",
    timeout: TimeoutOpt = 120,
    as_json: JsonOpt = False,
) -> None:
    """Major problem review (runs review-major-problem): a report artifact and a summary."""
    command = validated(ReviewProblem, number=number, actor=actor, summary=summary, lessons=lessons)
    _step(command, timeout, as_json)


@problem_app.command("detect")
def problem_detect(timeout: TimeoutOpt = 120, as_json: JsonOpt = False) -> None:
    """Run trend detection now (detect-problems, otherwise hourly) and print what it did:
    the problems it opened, and those its trends added incidents to (read from the audit
    rows the run wrote: "log" for opened, "link" for updated)."""
    flow_run_id = run_or_fail(detect_problems_call(), timeout, as_json)
    with transaction(get_settings()) as session:
        audits, problems = AuditRepository(session), ProblemRepository(session)
        touched = [r for r in audits.records_of_flow_run(flow_run_id) if PROBLEM_NUMBER.match(r)]
        actions = {
            record: {e.action for e in audits.for_record(record) if e.flow_run_id == flow_run_id}
            for record in touched
        }
        opened = [problems.get(r) for r in touched if "log" in actions[r]]
        updated = [problems.get(r) for r in touched if "link" in actions[r]]
    document = DetectionDocument(
        flow_run_id=flow_run_id,
        opened=[ProblemView.of(problem) for problem in opened],
        updated=[ProblemView.of(problem) for problem in updated],
    )
    if as_json:
        echo_json(document)
        return
    typer.echo(detection_summary(document))
