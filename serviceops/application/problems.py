"""Reading problems and the KEDB: the documents the read API and `serviceops problem|kedb`
return, built once."""

from sqlalchemy.orm import Session

from serviceops.domain.problem import ProblemState
from serviceops.domain.views import (
    KnownErrorDocument,
    KnownErrorDocView,
    KnownErrorList,
    ProblemDocument,
    ProblemList,
    ProblemView,
)
from serviceops.store.audit import AuditRepository
from serviceops.store.problem import KnownErrorRepository, ProblemRepository


def problem_document(session: Session, number: str) -> ProblemDocument:
    """One problem with its linked incidents and its audit trail; RecordNotFound if unknown."""
    problem = ProblemRepository(session).get(number)
    return ProblemDocument.of(problem, AuditRepository(session).for_record(number))


def problem_page(
    session: Session, *, state: ProblemState | None = None, limit: int = 100, offset: int = 0
) -> ProblemList:
    """One page of problems, newest first, optionally in one state."""
    problems = ProblemRepository(session).list(state=state, limit=limit, offset=offset)
    views = [ProblemView.of(problem) for problem in problems]
    return ProblemList(problems=views, count=len(views), limit=limit, offset=offset)


def known_error_document(session: Session, number: str) -> KnownErrorDocument:
    """One known error, retired ones too (`active` says which); RecordNotFound if unknown."""
    known_errors = KnownErrorRepository(session)
    known_error = known_errors.get(number)
    view = KnownErrorDocView.of(known_error, active=known_errors.is_active(number))
    return KnownErrorDocument(known_error=view)


def known_error_page(
    session: Session, *, words: str | None = None, limit: int = 100, offset: int = 0
) -> KnownErrorList:
    """The active known errors: newest first, or with `words` ranked by the words they share."""
    known_errors = KnownErrorRepository(session)
    if words is None:
        found = known_errors.list(limit=limit, offset=offset)
    else:
        # search ranks all active known errors and returns the best `limit`: page by asking
        # for the rows up to the end of the page and dropping those before it.
        found = known_errors.search(words, limit=offset + limit)[offset:]
    views = [KnownErrorDocView.of(known_error) for known_error in found]
    return KnownErrorList(known_errors=views, count=len(views), limit=limit, offset=offset)
