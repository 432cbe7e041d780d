"""Acknowledge links in pages sent by mail and SMS: signed for one page and one person.

Whoever holds the link may acknowledge that page as that person, so the link is all the
proof there is: an HMAC over page, person and expiry with the secret the gateway and the
flows share. A changed page, person or expiry, or a link past its expiry, is refused.
"""

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

LIFETIME = timedelta(hours=24)
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_EXPIRES = re.compile(r"^[0-9]{1,12}$")


class LinkRefused(ValueError):
    """The link is not one serviceops signed, or no longer valid; the reason is safe to show."""


def signature(secret: str, page: str, person: str, expires: int) -> str:
    message = f"{page}\n{person}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def acknowledge_link(base_url: str, secret: str, page: str, person: str, at: datetime) -> str:
    """The link `person` opens to acknowledge `page`, valid for LIFETIME from `at`."""
    expires = int((at + LIFETIME).timestamp())
    signed = signature(secret, page, person, expires)
    query = urlencode({"person": person, "expires": expires, "signature": signed})
    return f"{base_url.rstrip('/')}/pages/{page}/acknowledge?{query}"


def check(secret: str, page: str, person: str, expires: str, given: str, now: datetime) -> None:
    """LinkRefused unless `given` is the signature of this page, person and expiry, and the
    expiry is still ahead."""
    if not _EXPIRES.match(expires) or not _SIGNATURE.match(given):
        raise LinkRefused("this link is not a serviceops acknowledge link")
    if not hmac.compare_digest(signature(secret, page, person, int(expires)), given):
        raise LinkRefused("this link is not a serviceops acknowledge link")
    if int(expires) < now.timestamp():
        raise LinkRefused("this link has expired; acknowledge in Slack or with the CLI")
