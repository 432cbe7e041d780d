"""The problem and the command forms shared by the problem rules tests: PRB-000042, a trend
problem on service mail logged at T0, and a command for it filed by bob."""

from datetime import UTC, datetime, timedelta
from typing import TypeVar

from serviceops.domain import problem as p
from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.problem import Problem, ProblemSource, ProblemState

C = TypeVar("C", bound=p.ProblemCommand)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=2)


def problem(state: ProblemState = ProblemState.NEW, **changes: object) -> Problem:
    values: dict[str, object] = {
        "number": "PRB-000042",
        "title": "Recurring incidents on service mail",
        "state": state,
        "source": ProblemSource.TREND,
        "trend_key": "service:mail",
        "service": "mail",
        "impact": Impact.MEDIUM,
        "urgency": Urgency.MEDIUM,
        "frequency": 4,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(changes)
    return Problem.model_validate(values)


def form(command: type[C], **fields: object) -> C:
    return command.model_validate({"number": "PRB-000042", "actor": "bob", **fields})
