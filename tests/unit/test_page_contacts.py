"""Pages by mail and SMS through the outbox: a real SMTP server (aiosmtpd) and a loopback SMS
provider that can fail, on both database backends; and the signed acknowledge link."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from serviceops.notify.delivery import deliver, deliver_pending
from serviceops.notify.email import SmtpSender, SmtpServer
from serviceops.notify.outbox import SEND_EMAIL, SEND_SMS, Outbox
from serviceops.notify.page_links import LIFETIME, LinkRefused, acknowledge_link, check
from serviceops.notify.sms import RestSms, SmsSender
from tests.fakes.mail import MailServer
from tests.fakes.sms import ACCOUNT, TOKEN, FakeSms

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
SECRET = "link-secret"
MAIL = frozenset({SEND_EMAIL})
SMS = frozenset({SEND_SMS})


def _mail(sessions: sessionmaker[Session], key: str, to: str) -> None:
    with sessions.begin() as session:
        Outbox(session).email(key=key, to=to, subject=f"paged {key}", body=f"body of {key}",
                              record="PGE-000001", at=T0)  # fmt: skip


def _sms(sessions: sessionmaker[Session], key: str) -> None:
    with sessions.begin() as session:
        Outbox(session).sms(key=key, to="+4915112345678", body=f"PGE-000001 {key}",
                            record="PGE-000001", at=T0)  # fmt: skip


def _errors(sessions: sessionmaker[Session]) -> dict[str, str | None]:
    with sessions() as session:
        return {n.key: n.last_error for n in Outbox(session).list()}


def test_mail_reaches_the_smtp_server_once_and_a_refused_recipient_fails_only_its_row(
    sessions: sessionmaker[Session],
) -> None:
    _mail(sessions, "a", "alex@example.org")
    _mail(sessions, "b", "ghost@nowhere.invalid")
    _mail(sessions, "c", "casey@example.org")
    with MailServer() as server:
        sender = SmtpSender(SmtpServer("127.0.0.1", server.port, "serviceops@example.org"))
        first = deliver(sessions, MAIL, sender)
        again = deliver(sessions, MAIL, sender)
        sender.close()
    assert (first.delivered, first.failed, first.remaining) == (2, 1, 1)
    assert again.delivered == 0
    assert [(m["To"], m["Subject"], m.get_content().strip()) for m in server.mails] == [
        ("alex@example.org", "paged a", "body of a"),
        ("casey@example.org", "paged c", "body of c"),
    ]
    assert "550" in (_errors(sessions)["b"] or "")


def test_a_mail_server_that_is_down_keeps_the_mail_waiting_until_it_is_up(
    sessions: sessionmaker[Session],
) -> None:
    _mail(sessions, "a", "alex@example.org")
    _mail(sessions, "b", "blake@example.org")
    with MailServer() as server:
        port = server.port
    down = SmtpSender(SmtpServer("127.0.0.1", port, "serviceops@example.org", timeout_s=2))
    report = deliver(sessions, MAIL, down)
    assert (report.delivered, report.failed, report.remaining) == (0, 1, 2)  # stopped at once
    with MailServer() as server:
        up = SmtpSender(SmtpServer("127.0.0.1", server.port, "serviceops@example.org"))
        assert deliver(sessions, MAIL, up).delivered == 2
        up.close()
    assert [m["To"] for m in server.mails] == ["alex@example.org", "blake@example.org"]


def test_an_sms_provider_answering_500_then_200_gives_one_sms(
    sessions: sessionmaker[Session],
) -> None:
    _sms(sessions, "step-0")
    with FakeSms() as provider:
        sender = SmsSender(RestSms(provider.base_url, ACCOUNT, TOKEN, "+15550001111"))
        provider.fail_next(500)
        failed = deliver(sessions, SMS, sender)
        delivered = deliver(sessions, SMS, sender)
        nothing = deliver(sessions, SMS, sender)
    assert (failed.failed, failed.remaining) == (1, 1)
    assert "HTTP 500" in (_errors(sessions)["step-0"] or "")
    assert (delivered.delivered, delivered.remaining, nothing.delivered) == (1, 0, 0)
    assert provider.calls == 2
    assert provider.messages == [
        {"to": "+4915112345678", "sender": "+15550001111", "body": "PGE-000001 step-0"}
    ]


def test_wrong_sms_credentials_stop_the_run_and_lose_nothing(
    sessions: sessionmaker[Session],
) -> None:
    _sms(sessions, "a")
    _sms(sessions, "b")
    with FakeSms() as provider:
        wrong = SmsSender(RestSms(provider.base_url, ACCOUNT, "not-the-token", "+15550001111"))
        report = deliver(sessions, SMS, wrong)
    assert (report.failed, report.remaining, provider.calls, provider.messages) == (1, 2, 1, [])


def test_each_channel_delivers_only_its_own_rows(sessions: sessionmaker[Session]) -> None:
    _mail(sessions, "mail", "alex@example.org")
    _sms(sessions, "sms")
    assert deliver_pending(sessions, None).remaining == 0  # Slack has nothing of these
    assert deliver(sessions, MAIL, None).remaining == 1
    assert deliver(sessions, SMS, None).remaining == 1


def _parts(link: str) -> dict[str, str]:
    split = urlsplit(link)
    return {"page": split.path.split("/")[2], **dict(parse_qsl(split.query))}


def test_a_signed_link_holds_for_its_page_and_person_until_it_expires() -> None:
    link = acknowledge_link("https://desk.example.org/", SECRET, "PGE-000007", "alex", T0)
    parts = _parts(link)
    assert link.startswith("https://desk.example.org/pages/PGE-000007/acknowledge?person=alex&")
    check(SECRET, "PGE-000007", "alex", parts["expires"], parts["signature"], T0)
    assert int(parts["expires"]) == int((T0 + LIFETIME).timestamp())


@pytest.mark.parametrize(
    ("page", "person", "expires_by", "signature", "secret", "reason"),
    [
        ("PGE-000008", "alex", 0, None, SECRET, "not a serviceops"),  # another page
        ("PGE-000007", "mallory", 0, None, SECRET, "not a serviceops"),  # another person
        ("PGE-000007", "alex", 3600, None, SECRET, "not a serviceops"),  # a later expiry
        ("PGE-000007", "alex", 0, "0" * 64, SECRET, "not a serviceops"),  # a made-up one
        ("PGE-000007", "alex", 0, "zz", SECRET, "not a serviceops"),  # not even hex
        ("PGE-000007", "alex", 0, None, "another-secret", "not a serviceops"),
    ],
)
def test_a_changed_link_is_refused(
    page: str, person: str, expires_by: int, signature: str | None, secret: str, reason: str
) -> None:
    parts = _parts(acknowledge_link("https://desk", SECRET, "PGE-000007", "alex", T0))
    expires = str(int(parts["expires"]) + expires_by)
    with pytest.raises(LinkRefused, match=reason):
        check(secret, page, person, expires, signature or parts["signature"], T0)


def test_an_expired_link_is_refused() -> None:
    parts = _parts(acknowledge_link("https://desk", SECRET, "PGE-000007", "alex", T0))
    later = T0 + LIFETIME + timedelta(seconds=1)
    with pytest.raises(LinkRefused, match="expired"):
        check(SECRET, "PGE-000007", "alex", parts["expires"], parts["signature"], later)
