"""Incidents and problems shared by the problem store tests: incidents logged at a given
instant (each in a category of its own unless told otherwise), and reading and closing a
problem."""

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.incident import IncidentDraft
from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.problem import Problem, ProblemState
from serviceops.store.incident import IncidentRepository
from serviceops.store.problem import ProblemRepository

Sessions = sessionmaker[Session]

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


_unique = itertools.count(1)


def incident(
    sessions: Sessions,
    at: datetime,
    *,
    service: str = "mail",
    ci: str | None = None,
    category: str | None = None,
    major: bool = False,
    title: str = "Mail bounces",
) -> str:
    """An incident logged at `at`; without a category, one of its own (so that only the
    dimensions a test sets up form trends)."""
    draft = IncidentDraft(
        title=title,
        service=service,
        ci=ci,
        category=category or f"misc/{next(_unique)}",
        impact=Impact.MEDIUM,
        urgency=Urgency.MEDIUM,
        reporter="alice@example.com",
        major=major,
    )
    with sessions.begin() as session:
        return IncidentRepository(session).add(draft, at).number


def incidents(sessions: Sessions, count: int, at: datetime, **fields: object) -> list[str]:
    """`count` incidents an hour apart, the last at `at`."""
    return [
        incident(sessions, at - timedelta(hours=count - 1 - i), **fields)  # type: ignore[arg-type]
        for i in range(count)
    ]


def get(sessions: Sessions, number: str) -> Problem:
    with sessions.begin() as session:
        return ProblemRepository(session).get(number)


def close(sessions: Sessions, number: str, at: datetime = NOW) -> None:
    with sessions.begin() as session:
        repository = ProblemRepository(session)
        problem = repository.get(number)
        repository.save(
            problem.model_copy(
                update={"state": ProblemState.CLOSED, "closed_at": at, "resolved_at": at}
            )
        )
