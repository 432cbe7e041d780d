"""Raw calls to Prefect's REST API, for the places that do not use Prefect's own client
(the stack's readiness and quiet checks, tests, benchmarks).

Prefect on SQLite answers 503 while its database is busy; every raw caller must back off and
retry, so they all go through `call`.
"""

import time
from typing import Any

import httpx

RETRIES_ON_BUSY = 10


def call(api: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """The response, after retrying 503s with a growing pause; raises on any other error."""
    for attempt in range(RETRIES_ON_BUSY):
        response = api.request(method, url, **kwargs)
        if response.status_code != 503:
            return response.raise_for_status()
        time.sleep(0.2 * (attempt + 1))
    return response.raise_for_status()
