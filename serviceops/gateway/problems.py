"""Read API for problem management: `GET /api/v1/problems[/{number}]` and
`GET /api/v1/known-errors[/{number}]` (the KEDB, with full-text search).

The documents are serviceops.domain.views.problems, the same ones `serviceops problem|kedb
--json` prints. Changes go through the problem flows, never through this API.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from serviceops.domain.problem import ProblemState
from serviceops.domain.views import (
    KnownErrorDocument,
    KnownErrorDocView,
    KnownErrorList,
    ProblemDocument,
    ProblemList,
    ProblemView,
)
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import FREE_TEXT, KnownErrorNumber, Limit, Offset, ProblemNumber
from serviceops.store.audit import AuditRepository
from serviceops.store.base import RecordNotFound
from serviceops.store.problem import KnownErrorRepository, ProblemRepository

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)])


@router.get("/problems", response_model=ProblemList, tags=["problems"])
def list_problems(
    session: SessionDep,
    state: Annotated[
        ProblemState | None,
        Query(description="new, investigating, known_error, resolved or closed"),
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ProblemList:
    """One page of problems, newest first, optionally in one state. Linked incidents are
    counted (`frequency`) here and listed in each problem's document."""
    problems = ProblemRepository(session).list(state=state, limit=limit, offset=offset)
    views = [ProblemView.of(problem) for problem in problems]
    return ProblemList(problems=views, count=len(views), limit=limit, offset=offset)


@router.get("/problems/{number}", response_model=ProblemDocument, tags=["problems"])
def get_problem(session: SessionDep, number: ProblemNumber) -> ProblemDocument:
    """One problem with its linked incidents and its audit trail; 404 when unknown."""
    try:
        problem = ProblemRepository(session).get(number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no problem {number}") from None
    return ProblemDocument.of(problem, AuditRepository(session).for_record(number))


@router.get("/known-errors", response_model=KnownErrorList, tags=["known errors"])
def list_known_errors(
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=500,
            description="Words to find in titles and symptoms; best matches first",
        ),
        FREE_TEXT,
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> KnownErrorList:
    """The active known errors: newest first, or with `q` ranked by the words they share with
    it (the ranking of `serviceops kedb search`)."""
    known_errors = KnownErrorRepository(session)
    if q is None:
        found = known_errors.list(limit=limit, offset=offset)
    else:
        # search ranks all active known errors and returns the best `limit`: page by asking
        # for the rows up to the end of the page and dropping those before it.
        found = known_errors.search(q, limit=offset + limit)[offset:]
    views = [KnownErrorDocView.of(known_error) for known_error in found]
    return KnownErrorList(known_errors=views, count=len(views), limit=limit, offset=offset)


@router.get("/known-errors/{number}", response_model=KnownErrorDocument, tags=["known errors"])
def get_known_error(session: SessionDep, number: KnownErrorNumber) -> KnownErrorDocument:
    """One known error, retired ones too (`active` says which); 404 when unknown."""
    known_errors = KnownErrorRepository(session)
    try:
        known_error = known_errors.get(number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no known error {number}") from None
    view = KnownErrorDocView.of(known_error, active=known_errors.is_active(number))
    return KnownErrorDocument(known_error=view)
