"""Bearer-token check for the read API.

The token is read on each request (from settings or the file `make up` writes), so rotating
the file takes effect without a restart. The comparison is constant-time so response timing
does not leak how much of a guess was right.
"""

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serviceops.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="SERVICEOPS_API_TOKEN")


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 for a missing or wrong token; 503 when the deployment has no token at all.

    503 rather than 401 when unconfigured: no client can fix that, the operator must, and an
    open API by default would expose every record.
    """
    settings: Settings = request.app.state.settings
    expected = settings.read_api_token()
    if expected is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=(
                "read API disabled: no token configured; set SERVICEOPS_API_TOKEN or write "
                f"one into {settings.api_token_file}"
            ),
        )
    if credentials is None or not secrets.compare_digest(
        credentials.credentials.encode(), expected.encode()
    ):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
