"""The gateway's way into Prefect: its own async client, bound to one API URL.

Why a wrapper: without PREFECT_API_URL, Prefect's `get_client()` quietly starts an ephemeral
in-process server, which in the gateway would accept runs that no worker ever sees. Here an
unset URL is an error the caller handles like "Prefect is down". An explicit `api_url`
(create_app(prefect_api_url=...)) overrides the process setting for this call only: it is
entered as a context-local Prefect setting, so concurrent requests cannot see each other's.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import TYPE_CHECKING

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient


class PrefectNotConfigured(RuntimeError):
    """No Prefect API URL: the gateway records work but cannot start or resume runs."""


def api_url_in_use(api_url: str | None = None) -> str | None:
    """The URL a call would use: the override, else Prefect's PREFECT_API_URL."""
    return api_url or PREFECT_API_URL.value() or None


@asynccontextmanager
async def prefect_client(api_url: str | None = None) -> AsyncIterator["PrefectClient"]:
    """An open Prefect client on `api_url` (default: PREFECT_API_URL); never ephemeral."""
    if api_url_in_use(api_url) is None:
        raise PrefectNotConfigured("PREFECT_API_URL is not set")
    override = temporary_settings(updates={PREFECT_API_URL: api_url}) if api_url else nullcontext()
    with override:
        async with get_client() as client:
            yield client
