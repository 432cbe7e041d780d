"""POST /slack/interactions and Slack itself: v0 signatures (a press not signed with the
signing secret is refused) and where replies may be posted (a response_url on an allowed host
only), so that neither a forged press nor a forged reply address gets through."""

import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.gateway.slack import response_url_target
from serviceops.settings import Settings
from tests.unit.gateway_support import Collector, closed_port_url, slack_headers
from tests.unit.slack_interactions.support import PATH, _app, _form, _press, _text

# --------------------------------------------------------------------------- signature


def test_no_signing_secret_is_503(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    app = _app(tmp_path, database_url, sessions, closed_port_url(), secret=None)
    with TestClient(app) as client:
        response = _press(client, _form("REQ-000001", str(uuid4())))
    assert response.status_code == 503
    assert "SERVICEOPS_SLACK_SIGNING_SECRET" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-Slack-Signature": "v0=" + "a" * 64}, "bad signature"),
        ({"X-Slack-Signature": ""}, "missing signature header"),
        ({"X-Slack-Signature": "v1=" + "a" * 64}, "malformed signature"),
        ({"X-Slack-Request-Timestamp": ""}, "missing timestamp header"),
        ({"X-Slack-Request-Timestamp": str(int(time.time()) - 400)}, "stale timestamp"),
    ],
)
def test_bad_missing_or_stale_signature_is_401(
    offline: TestClient, change: dict[str, str], reason: str
) -> None:
    response = _press(offline, _form("REQ-000001", str(uuid4())), **change)
    assert response.status_code == 401
    assert response.json() == {"detail": reason}


def test_signed_with_another_secret_is_401(offline: TestClient) -> None:
    body = _form("REQ-000001", str(uuid4()))
    response = offline.post(PATH, content=body, headers=slack_headers(body, "not-the-secret"))
    assert response.json() == {"detail": "bad signature"}


# --------------------------------------------------------------------------- response_url


@pytest.mark.parametrize(
    ("url", "hosts", "allowed"),
    [
        ("https://hooks.slack.com/actions/T1/B2/xyz", "hooks.slack.com", True),
        ("HTTPS://Hooks.Slack.com/actions/T1/B2/xyz", "hooks.slack.com", True),
        ("https://hooks.slack.com:443/actions/T1/B2/xyz", "hooks.slack.com", True),
        ("http://hooks.slack.com/actions/T1/B2/xyz", "hooks.slack.com", False),
        ("https://hooks.slack.com:8443/actions", "hooks.slack.com", False),
        ("https://hooks.slack.com.evil.example/actions", "hooks.slack.com", False),
        ("https://evil.example/hooks.slack.com", "hooks.slack.com", False),
        ("https://hooks.slack.com@evil.example/actions", "hooks.slack.com", False),
        ("https://bob@hooks.slack.com/actions", "hooks.slack.com", False),
        ("https://evil.example\\@hooks.slack.com/actions", "hooks.slack.com", False),
        ("//hooks.slack.com/actions", "hooks.slack.com", False),
        ("javascript:alert(1)", "hooks.slack.com", False),
        ("http://127.0.0.1:9/x", "hooks.slack.com,http://127.0.0.1:9", True),
        ("http://127.0.0.1:10/x", "hooks.slack.com,http://127.0.0.1:9", False),
        ("https://127.0.0.1:9/x", "hooks.slack.com,http://127.0.0.1:9", False),
    ],
)
def test_only_slacks_own_host_over_https_is_a_response_url(
    url: str, hosts: str, allowed: bool
) -> None:
    settings = Settings(slack_response_hosts=hosts)
    target = response_url_target(url, settings.slack_response_hosts)
    assert (target is not None) == allowed


def test_the_response_hosts_setting_is_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().slack_response_hosts == ["hooks.slack.com"]
    monkeypatch.setenv("SERVICEOPS_SLACK_RESPONSE_HOSTS", " hooks.slack.com , HTTP://127.0.0.1:9")
    assert Settings().slack_response_hosts == ["hooks.slack.com", "http://127.0.0.1:9"]
    for bad in ("https://hooks.slack.com/path", "ftp://hooks.slack.com", "a b"):
        monkeypatch.setenv("SERVICEOPS_SLACK_RESPONSE_HOSTS", bad)
        with pytest.raises(ValueError, match="slack_response_hosts"):
            Settings()


def test_a_response_url_elsewhere_is_not_posted_to(offline: TestClient) -> None:
    with Collector() as elsewhere:
        body = _form("REQ-000042", str(uuid4()), response_url=elsewhere.url)
        text = _text(_press(offline, body))
        assert not elsewhere.received.wait(0.5)
    assert text == "There is no request REQ-000042."
    assert elsewhere.posts == []


def test_a_response_url_on_an_allowed_host_is_posted_to(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    with Collector() as allowed:
        origin = str(httpx.URL(allowed.url).copy_with(path="/", query=None)).rstrip("/")
        app = _app(tmp_path, database_url, sessions, closed_port_url(), response_hosts=origin)
        with TestClient(app) as client:
            text = _text(
                _press(client, _form("REQ-000042", str(uuid4()), response_url=allowed.url))
            )
        assert allowed.received.wait(5)
    assert allowed.posts == [
        {"response_type": "ephemeral", "text": text, "replace_original": False}
    ]
