"""SMS from the outbox through a provider's HTTP API.

`SmsProvider` is what a provider must do (send one text, say whether a failure concerns
every message); `RestSms` speaks the common REST shape (Twilio's: a form POST to
`{base}/Accounts/{account}/Messages.json` with basic auth, To, From and Body). Another
provider is one more class with `send`.
"""

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from serviceops.notify.delivery import Outcome, one_line
from serviceops.settings import Settings


class SmsRefused(Exception):
    """The provider did not take the message; `stop` when it concerns every message (the
    provider is down, the credentials are wrong), not just this number."""

    def __init__(self, reason: str, *, stop: bool) -> None:
        super().__init__(reason)
        self.stop = stop


class SmsProvider(Protocol):
    def send(self, to: str, text: str) -> str:
        """Send one text; the provider's message id. SmsRefused when not taken."""
        ...


@dataclass(frozen=True)
class RestSms:
    base_url: str  # e.g. https://api.example.com/2010-04-01
    account: str
    token: str
    sender: str  # the From number (E.164)
    timeout_s: float = 5  # under SQLite's busy timeout: the row's claim waits on it

    def send(self, to: str, text: str) -> str:
        url = f"{self.base_url.rstrip('/')}/Accounts/{self.account}/Messages.json"
        form = {"To": to, "From": self.sender, "Body": text}
        try:
            response = httpx.post(
                url, data=form, auth=(self.account, self.token), timeout=self.timeout_s
            )
        except httpx.HTTPError as error:
            raise SmsRefused(one_line(error), stop=True) from None
        if response.status_code >= 300:
            stop = response.status_code in (401, 403, 429) or response.status_code >= 500
            raise SmsRefused(f"HTTP {response.status_code}: {response.text[:200]}", stop=stop)
        try:  # taken whatever the body says: a text sent must not be sent again
            return str(response.json().get("sid", ""))
        except (ValueError, AttributeError):
            return ""


def sms_provider(settings: Settings) -> SmsProvider | None:
    """The configured provider (SERVICEOPS_SMS_*), None when SMS is off."""
    if not (settings.sms_base_url and settings.sms_account and settings.sms_from):
        return None
    token = settings.sms_token.get_secret_value() if settings.sms_token else ""
    return RestSms(settings.sms_base_url, settings.sms_account, token, settings.sms_from)


class SmsSender:
    """Delivers sms.send rows through one provider."""

    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    def attempt(self, method: str, payload: dict[str, Any]) -> Outcome:
        try:
            self.provider.send(payload["to"], payload["text"])
        except SmsRefused as refused:
            return Outcome(error=str(refused)[:500], stop=refused.stop)
        except Exception as error:  # a bug: record it on the row, then let it surface
            return Outcome(error=one_line(error), unexpected=error)
        return Outcome()
