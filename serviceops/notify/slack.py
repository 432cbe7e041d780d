"""The Slack Web API client serviceops uses: slack-sdk's WebClient with retries that matter.

slack-sdk retries only connection errors by default. Slack answers 429 with Retry-After when a
method's rate tier is exceeded and 5xx when it has trouble; both are worth waiting for inside
one call, so the outbox sees either a success or an error that survived the retries.
`base_url` lets tests (and Slack-compatible endpoints) stand in for slack.com.
"""

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

DEFAULT_BASE_URL = "https://slack.com/api/"


def make_client(token: str, base_url: str = DEFAULT_BASE_URL, *, timeout: int = 10) -> WebClient:
    """A WebClient that waits out 429 (Retry-After, 3 times) and retries 500/503 twice."""
    if not token:
        raise ValueError("a Slack token is required (leave Slack off instead of passing '')")
    return WebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
