"""The read API's parameter types, shared by every router: one rule each, kept here so that a
new endpoint gets the same bounds by using them (tests/unit/test_gateway_params.py checks every
endpoint the app documents).

Each exists because a bare `int`, `str` or `date` lets through values that the database or the
calendar cannot take, and those would be a 500 rather than a 422 naming the parameter: an
integer past what the database compares with an id, NUL (which PostgreSQL text cannot hold),
a day whose report period would leave the years `datetime` can represent.
"""

from datetime import date, timedelta
from typing import Annotated, Any

from annotated_types import Interval
from fastapi import Path, Query
from pydantic import AfterValidator

from serviceops.store.base import MAX_ROW_ID

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Records to skip")]


def _without_nul(text: str | None) -> str | None:
    if text is not None and "\x00" in text:
        raise ValueError("must not contain NUL (U+0000)")
    return text


FREE_TEXT = AfterValidator(_without_nul)
"""For a query parameter of free text: `Annotated[str | None, Query(max_length=...), FREE_TEXT]`
(after the Query, so that its length limit is checked on the text itself)."""


_MARGIN = timedelta(days=31)
DAYS = Interval(ge=date.min + _MARGIN, le=date.max - _MARGIN)
"""For a query parameter of a day: `Annotated[date | None, Query(...), DAYS]`. A month inside
the years `datetime` can represent, so that a report period ending on it (a week at most)
and its timezone's offset stay inside them too."""


def _within_row_ids(number: str | None) -> str | None:
    """After the pattern: the digits are there, only their value is left to check."""
    if number is not None and int(number.partition("-")[2]) > MAX_ROW_ID:
        raise ValueError(f"no record number is past {MAX_ROW_ID}")
    return number


def _number_pattern(prefix: str) -> str:
    """ASCII digits: a regex `\\d` takes any script's, which int() reads as the same number."""
    return rf"^{prefix}-[0-9]{{6,}}$"


def _number(prefix: str) -> Any:
    """The path parameter of one kind of record number, e.g. INC-000123."""
    return Path(pattern=_number_pattern(prefix), description=f"e.g. {prefix}-000123")


_WITHIN_ROW_IDS = AfterValidator(_within_row_ids)

IncidentNumber = Annotated[str, _number("INC"), _WITHIN_ROW_IDS]
RequestNumber = Annotated[str, _number("REQ"), _WITHIN_ROW_IDS]
EventNumber = Annotated[str, _number("EVT"), _WITHIN_ROW_IDS]
AlertNumber = Annotated[str, _number("ALR"), _WITHIN_ROW_IDS]
SilenceNumber = Annotated[str, _number("SIL"), _WITHIN_ROW_IDS]
ProblemNumber = Annotated[str, _number("PRB"), _WITHIN_ROW_IDS]
KnownErrorNumber = Annotated[str, _number("KE"), _WITHIN_ROW_IDS]

AlertFilter = Annotated[
    str | None,
    Query(pattern=_number_pattern("ALR"), description="Events of this alert"),
    _WITHIN_ROW_IDS,
]
