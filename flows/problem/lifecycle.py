"""Problem management (ITIL SO 4.4) as deployments, one form per step; all share one shape:
the step (or a clear refusal that changes nothing), the message, delivery."""

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from serviceops import deployment_names as names
from serviceops.domain.problem import (
    CategorizeProblem,
    CloseProblem,
    InvestigateProblem,
    PrioritizeProblem,
    ProblemCommand,
    ProblemDraft,
    RaiseKnownError,
    RecordWorkaround,
    ResolveProblem,
    ReviewProblem,
)
from tasks.board import publish_board
from tasks.notifications import deliver_notifications
from tasks.problem import (
    change_problem,
    publish_problem_review,
    record_problem,
    resolve_linked_incidents,
)


def _step(command: ProblemCommand) -> str:
    problem = change_problem(command)
    deliver_notifications()
    publish_board()
    return problem.state.value


@flow(name=names.LOG_PROBLEM)
def log_problem(problem: ProblemDraft) -> str:
    """Log a problem by hand (trends and major incidents are logged by detect-problems).
    Returns its number.

    Args:
        problem: What is known of the problem so far.
    """
    number = record_problem(problem).number
    deliver_notifications()
    publish_board()
    return number


@flow(name=CategorizeProblem.flow_name)
def categorize_problem(command: CategorizeProblem) -> str:
    """File the problem under a category (the incidents' scheme).

    Args:
        command: The problem, who acts, and what this step needs.
    """
    return _step(command)


@flow(name=PrioritizeProblem.flow_name)
def prioritize_problem(command: PrioritizeProblem) -> str:
    """Impact and urgency give the priority; frequent incidents raise the urgency.

    Args:
        command: The problem, who acts, and what this step needs.
    """
    return _step(command)


@flow(name=InvestigateProblem.flow_name)
def investigate_problem(command: InvestigateProblem) -> str:
    """Investigation and diagnosis: notes, and the root cause once found.

    Args:
        command: The problem, who acts, and what this step needs.
    """
    return _step(command)


@flow(name=RecordWorkaround.flow_name)
def record_workaround(command: RecordWorkaround) -> str:
    """A way around the fault until it is removed (the known error's too, if raised).

    Args:
        command: The problem, who acts, and what this step needs.
    """
    return _step(command)


@flow(name=RaiseKnownError.flow_name)
def raise_known_error(command: RaiseKnownError) -> str:
    """Root cause and workaround known: a KEDB record that initial diagnosis matches new
    incidents against from now on.

    Args:
        command: The problem, who acts, and what this step needs.
    """
    return _step(command)


@flow(name=ResolveProblem.flow_name)
def resolve_problem(command: ResolveProblem) -> str:
    """The root cause is removed, through a change (its reference is required).

    Args:
        command: The problem, who acts, and what this step needs.
    """
    return _step(command)


@flow(name=CloseProblem.flow_name)
def close_problem(command: CloseProblem) -> str:
    """Closure: the problem is closed, and every linked incident still open is resolved with
    its resolution and its reporter told.

    Args:
        command: The problem, who acts, and what this step needs.
    """
    state = change_problem(command).state.value
    resolve_linked_incidents(command.number)
    deliver_notifications()
    publish_board()
    return state


@flow(name=ReviewProblem.flow_name)
def review_major_problem(command: ReviewProblem) -> str:
    """Major problem review: what went well and badly, lessons; a report artifact and a Slack
    summary for management.

    Args:
        command: The problem, who acts, and what this step needs.
    """
    state = change_problem(command).state.value
    create_markdown_artifact(
        key=f"problem-review-{command.number.lower()}",
        markdown=publish_problem_review(command.number),
        description=f"Major problem review of {command.number}",
    )
    deliver_notifications()
    publish_board()
    return state


PROBLEM_FLOWS = (
    categorize_problem,
    prioritize_problem,
    investigate_problem,
    record_workaround,
    raise_known_error,
    resolve_problem,
    close_problem,
    review_major_problem,
)
