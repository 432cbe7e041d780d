"""HMAC signatures of inbound calls: serviceops's own webhook scheme and Slack's v0.

Both sign the timestamp together with the raw body, so a captured delivery cannot be replayed
after the window nor its body swapped. Comparisons are constant-time, and every secret of a
source is tried (two during a rotation) without stopping at the first match, so timing says
nothing about which secret, or how much of a guess, was right.

The window alone does not stop a replay inside it, and the signature does not cover the
Idempotency-Key: a captured delivery re-sent at once with a new key verifies. So the gateway
remembers every signature it accepted, in the deliveries table under `seen_key(digest)` (in
the database, so every replica knows it), and answers a replay as the first delivery. A
signature is only remembered with accepted work; a refused body (401, 413, 422) records
nothing, so its replay is refused again just as harmlessly.

Reasons in `SignatureError` are short and fixed: they go back to the caller in a 401 and must
not help anybody forge a signature (no expected value, no secret, no body).
"""

import hashlib
import hmac
import re
from collections.abc import Sequence

WINDOW_S = 300
SERVICEOPS_VERSION = "v1"
SLACK_VERSION = "v0"
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class SignatureError(ValueError):
    """The call is not signed as it must be; `reason` is safe to send back in a 401."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_serviceops(secret: str, timestamp: str, body: bytes) -> str:
    """The X-ServiceOps-Signature value for `body` sent at `timestamp` (senders, tests)."""
    return f"{SERVICEOPS_VERSION}=" + _hmac_hex(secret, f"{timestamp}.".encode() + body)


def sign_slack(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Slack-Signature value Slack would send for `body` at `timestamp` (tests)."""
    return f"{SLACK_VERSION}=" + _hmac_hex(secret, f"{SLACK_VERSION}:{timestamp}:".encode() + body)


def _check_timestamp(timestamp: str | None, now: float, window_s: int) -> None:
    if timestamp is None or timestamp == "":
        raise SignatureError("missing timestamp header")
    if not _TIMESTAMP.match(timestamp):
        raise SignatureError("malformed timestamp")
    if abs(now - int(timestamp)) > window_s:
        raise SignatureError("stale timestamp")


def _digest_of(signature: str | None, version: str) -> str:
    """The hex digest from `<version>=<hex>`, lower-cased; raises on anything else."""
    if signature is None or signature == "":
        raise SignatureError("missing signature header")
    prefix, sep, digest = signature.strip().partition("=")
    digest = digest.lower()
    if not sep or prefix != version or not _HEX_SHA256.match(digest):
        raise SignatureError("malformed signature")
    return digest


def _matches_any(digest: str, expected: Sequence[str]) -> bool:
    """Constant-time against every candidate: no early exit on the first match."""
    matched = False
    for candidate in expected:
        matched |= hmac.compare_digest(digest.encode(), candidate.encode())
    return matched


def verify_serviceops(
    secrets: Sequence[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    window_s: int = WINDOW_S,
) -> str:
    """The digest (lower-case hex) of `signature`, which identifies the delivery; raise
    SignatureError unless it is v1 over `<timestamp>.<body>` with any of `secrets`, and
    `timestamp` (unix seconds) is within `window_s` of `now`."""
    _check_timestamp(timestamp, now, window_s)
    digest = _digest_of(signature, SERVICEOPS_VERSION)
    assert timestamp is not None  # checked above
    message = f"{timestamp}.".encode() + body
    if not secrets or not _matches_any(digest, [_hmac_hex(s, message) for s in secrets]):
        raise SignatureError("bad signature")
    return digest


def seen_key(digest: str) -> str:
    """The delivery key that remembers a verified signature: 68 characters, within the
    deliveries table's 200; the digest comes lower-cased, so capitals make no second key."""
    return "sig:" + digest


def verify_slack(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    window_s: int = WINDOW_S,
) -> None:
    """Raise SignatureError unless Slack's v0 signature over `v0:<timestamp>:<body>` made
    with the app's signing secret matches, and the timestamp is within `window_s`."""
    _check_timestamp(timestamp, now, window_s)
    digest = _digest_of(signature, SLACK_VERSION)
    assert timestamp is not None
    expected = _hmac_hex(secret, f"{SLACK_VERSION}:{timestamp}:".encode() + body)
    if not _matches_any(digest, [expected]):
        raise SignatureError("bad signature")
