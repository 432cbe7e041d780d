"""Events whose details no read could show before: written straight through the store, as rows
stored before intake refused such details are, and what a read shows of each.

- lone surrogates (U+D800..U+DFFF) in a key and in values: a JSON escape (`\\ud800`) carries
  them, json.dumps writes them so, SQLite's text and PostgreSQL's `json` keep them, and JSON
  output (pydantic, UTF-8) cannot encode them;
- details nested 300 deep: past the 255 levels pydantic can serialize;
- details nested 999 deep: past what Python's JSON decoder can recurse into, so not even
  loading the row worked. json.dumps cannot write it either (same recursion), so the row's
  JSON text is written with SQL, as another client or an older version would have.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.event import EventIn
from serviceops.domain.views import CLIPPED, SHOWN_DEPTH
from serviceops.store.event import EventRepository, event_id

SURROGATES = {"message": "disk \ud800 full", "\udfff": ["\udbff", {"key\ud800": "value"}]}
SURROGATES_SHOWN = {"message": "disk \ufffd full", "\ufffd": ["\ufffd", {"key\ufffd": "value"}]}


def nested(depth: int, leaf: Any = "leaf") -> Any:
    """`depth` objects, each the only value of the one before: {"k": {"k": ... leaf}}."""
    value = leaf
    for _ in range(depth):
        value = {"k": value}
    return value


NESTED_SHOWN = nested(SHOWN_DEPTH, CLIPPED)
"""What a read shows of details nested deeper than SHOWN_DEPTH: that many levels, then CLIPPED."""


def _event(summary: str, details: dict[str, Any]) -> EventIn:
    """Not validated: intake refuses such details now, and these stand for older rows."""
    return EventIn.model_construct(
        source="legacy", service="mail", check=summary, summary=summary, details=details
    )


def record_bad_events(sessions: sessionmaker[Session], at: datetime) -> dict[str, str]:
    """The three bad events, recorded as one delivery; their numbers by name: surrogates,
    nested-300, nested-999."""
    names = ["surrogates", "nested-300", "nested-999"]
    events = [_event(names[0], SURROGATES), _event(names[1], nested(300)), _event(names[2], {})]
    with sessions.begin() as session:
        numbers = dict(zip(names, EventRepository(session).record(events, at), strict=True))
        _write_details(session, numbers["nested-999"], '{"k":' * 999 + '"leaf"' + "}" * 999)
    return numbers


def _write_details(session: Session, number: str, json_text: str) -> None:
    session.execute(
        text("UPDATE events SET details = :details WHERE id = :id"),
        {"details": json_text, "id": event_id(number)},
    )


SHOWN = {"surrogates": SURROGATES_SHOWN, "nested-300": NESTED_SHOWN, "nested-999": NESTED_SHOWN}
"""The details a read shows of each bad event, by name."""
