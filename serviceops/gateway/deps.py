"""Per-request database session: one transaction per request, closed whatever happens."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker


def get_session(request: Request) -> Iterator[Session]:
    """`with sessions.begin()`: commits on success, rolls back on any error, always closes."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions.begin() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
