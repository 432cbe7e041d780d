"""Read API for the ops report's KPIs: `GET /api/v1/kpis?period=daily|weekly&end=<date>`."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError

from serviceops.domain.incident import IncidentPolicy
from serviceops.domain.report import KpiReport, ReportKind, compute_report, period_through
from serviceops.gateway.auth import require_token
from serviceops.gateway.deps import SessionDep
from serviceops.gateway.params import DAYS, FREE_TEXT
from serviceops.store.report import KpiRepository

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"], dependencies=[Depends(require_token)])


@router.get("", response_model=KpiReport)
def get_kpis(
    session: SessionDep,
    period: Annotated[ReportKind, Query(description="daily: one day; weekly: seven")] = (
        ReportKind.DAILY
    ),
    end: Annotated[
        date | None,
        Query(description="Last day of the period (local); default: yesterday"),
        DAYS,
    ] = None,
    tz: Annotated[
        str, Query(max_length=64, description="IANA timezone of the days and hours"), FREE_TEXT
    ] = "UTC",
    first_line: Annotated[
        str | None,
        Query(max_length=100, description="First-line group; default: the policy's default"),
        FREE_TEXT,
    ] = None,
) -> KpiReport:
    """The KPIs of the daily or weekly period ending with `end`, computed as the ops-report
    flow computes them.

    The gateway does not read the Prefect blocks on its request path, so the timezone and the
    first-line group are parameters (defaults: UTC and the default policy's first group); pass
    the operator's values to match the scheduled report exactly.
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        # The same 422 document as FastAPI's own validation: the failing field in `loc`.
        error = {"loc": ("query", "tz"), "msg": "unknown IANA timezone", "type": "value_error"}
        raise RequestValidationError([error | {"input": tz}]) from None
    last_day = end or datetime.now(UTC).astimezone(zone).date() - timedelta(days=1)
    facts = KpiRepository(session).facts(period_through(period, last_day, tz))
    calendar = IncidentPolicy().calendar.model_copy(update={"timezone": tz})
    return compute_report(facts, first_line or IncidentPolicy().default_group, calendar)
