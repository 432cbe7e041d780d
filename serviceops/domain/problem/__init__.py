"""Problem management (ITIL SO 4.4): the problem record and its lifecycle, trend detection
rules, and the known error database (KEDB) that initial diagnosis matches incidents against.

Three parts, each usable on its own:

- KEDB: `KnownError`, `match_known_errors` (one incident, any list) and `KnownErrorIndex`
  (built once from a large KEDB, then many incidents matched against it).
- Lifecycle: `PROBLEM_TRANSITIONS` decides which action is legal in which state, and each step
  (`categorize`, `prioritize`, `investigate`, `record_workaround`, `raise_known_error`,
  `resolve`, `close`, `review`) is a pure function: problem + command form + instant in, a
  `ProblemChange` (new problem, audit entry) out. Nothing here reads a clock or a database.
- Trends: a `TrendRule` says what counts as a trend; the store finds `Trend`s with SQL
  (serviceops.store.problem.problems) and `draft_for` turns one into the problem to log.
"""

from serviceops.domain.problem.commands import (
    FREQUENT_INCIDENTS,
    CategorizeProblem,
    CloseProblem,
    InvestigateProblem,
    PrioritizeProblem,
    ProblemCommand,
    RaiseKnownError,
    RecordWorkaround,
    ResolveProblem,
    ReviewProblem,
)
from serviceops.domain.problem.kedb import (
    NEW_KNOWN_ERROR,
    KnownError,
    KnownErrorIndex,
    match_known_errors,
    symptom_words,
)
from serviceops.domain.problem.record import (
    OPEN_PROBLEM_STATES,
    PROBLEM_TRANSITIONS,
    PROBLEMS,
    Problem,
    ProblemAction,
    ProblemDraft,
    ProblemSource,
    ProblemState,
)
from serviceops.domain.problem.steps import (
    ProblemChange,
    categorize,
    close,
    investigate,
    logged,
    prioritize,
    problem_priority,
    raise_known_error,
    record_workaround,
    resolve,
    review,
    trend_grew,
    trend_joined,
)
from serviceops.domain.problem.trends import (
    Trend,
    TrendDimension,
    TrendRule,
    coincides,
    draft_for,
    joined_note,
    spoken,
    title_for,
    trend_key,
)

__all__ = [
    "FREQUENT_INCIDENTS",
    "NEW_KNOWN_ERROR",
    "OPEN_PROBLEM_STATES",
    "PROBLEMS",
    "PROBLEM_TRANSITIONS",
    "CategorizeProblem",
    "CloseProblem",
    "InvestigateProblem",
    "KnownError",
    "KnownErrorIndex",
    "PrioritizeProblem",
    "Problem",
    "ProblemAction",
    "ProblemChange",
    "ProblemCommand",
    "ProblemDraft",
    "ProblemSource",
    "ProblemState",
    "RaiseKnownError",
    "RecordWorkaround",
    "ResolveProblem",
    "ReviewProblem",
    "Trend",
    "TrendDimension",
    "TrendRule",
    "categorize",
    "close",
    "coincides",
    "draft_for",
    "investigate",
    "joined_note",
    "logged",
    "match_known_errors",
    "prioritize",
    "problem_priority",
    "raise_known_error",
    "record_workaround",
    "resolve",
    "review",
    "spoken",
    "symptom_words",
    "title_for",
    "trend_grew",
    "trend_joined",
    "trend_key",
]
