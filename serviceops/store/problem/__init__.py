"""Problems, their incidents, trends and the known error database: tables and repositories."""

from serviceops.store.problem.kedb import KnownErrorRepository
from serviceops.store.problem.problems import ProblemRepository
from serviceops.store.problem.trends import RecordedTrend, TrendRepository

__all__ = ["KnownErrorRepository", "ProblemRepository", "RecordedTrend", "TrendRepository"]
