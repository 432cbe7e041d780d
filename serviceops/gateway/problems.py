"""Read API for problem management: `GET /api/v1/problems[/{number}]` and
`GET /api/v1/known-errors[/{number}]` (the KEDB, with full-text search).

The documents are serviceops.domain.views.problems, the same ones `serviceops problem|kedb
--json` prints. Changes go through the problem flows, never through this API.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from serviceops.application.problems import (
    known_error_document,
    known_error_page,
    problem_document,
    problem_page,
)
from serviceops.domain.problem import ProblemState
from serviceops.domain.views import (
    KnownErrorDocument,
    KnownErrorList,
    ProblemDocument,
    ProblemList,
)
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import FREE_TEXT, KnownErrorNumber, Limit, Offset, ProblemNumber
from serviceops.store.base import RecordNotFound

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
    return problem_page(session, state=state, limit=limit, offset=offset)


@router.get("/problems/{number}", response_model=ProblemDocument, tags=["problems"])
def get_problem(session: SessionDep, number: ProblemNumber) -> ProblemDocument:
    """One problem with its linked incidents and its audit trail; 404 when unknown."""
    try:
        return problem_document(session, number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no problem {number}") from None


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
    return known_error_page(session, words=q, limit=limit, offset=offset)


@router.get("/known-errors/{number}", response_model=KnownErrorDocument, tags=["known errors"])
def get_known_error(session: SessionDep, number: KnownErrorNumber) -> KnownErrorDocument:
    """One known error, retired ones too (`active` says which); 404 when unknown."""
    try:
        return known_error_document(session, number)
    except RecordNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no known error {number}") from None
