"""Read API for on-call: `GET /api/v1/oncall?group=&at=`, who answers each layer of each
support group now (or at `at`) and who next; the document `serviceops oncall who --json`
prints (serviceops.domain.views.oncall)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import AwareDatetime

from serviceops.application.oncall import on_call
from serviceops.domain.oncall import GROUP_PATTERN, UnknownSchedule
from serviceops.domain.views import OnCallDocument
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["oncall"], dependencies=[Depends(require_token)])


@router.get("/oncall", response_model=OnCallDocument)
def get_on_call(
    session: SessionDep,
    group: Annotated[
        str | None,
        Query(
            max_length=100, pattern=GROUP_PATTERN, description="One support group; all if empty."
        ),
    ] = None,
    at: Annotated[
        AwareDatetime | None,
        Query(description="The instant, with its timezone (2026-12-04T18:00Z); now when empty."),
    ] = None,
) -> OnCallDocument:
    """Who is on call now (or at `at`) and next, per group and layer; 404 for a group with
    no schedule, naming those there are."""
    try:
        return on_call(session, at or datetime.now(UTC), group)
    except UnknownSchedule as unknown:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(unknown)) from None
