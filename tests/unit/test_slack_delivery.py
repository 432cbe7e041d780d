"""Delivery through the real slack-sdk client against FakeSlack: once, in order, never lost."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from serviceops.notify.delivery import deliver_pending
from serviceops.notify.outbox import Notification, Outbox
from serviceops.notify.render import SlackMessage, render_message
from serviceops.notify.slack import make_client
from serviceops.store.notifications import NotificationRecord
from tests.fakes.slack import BOT_USER, FakeSlack
from tests.unit.test_render import sample_incident

T0 = datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
TOKEN = "xoxb-test"


class Clock:
    """A deterministic `now` for deliver_pending: every reading is one second later."""

    def __init__(self) -> None:
        self.value = T0

    def __call__(self) -> datetime:
        self.value += timedelta(seconds=1)
        return self.value


def quick(client: WebClient) -> WebClient:
    """Shorter 5xx backoff for tests that are not about the backoff (same retry count)."""
    for handler in client.retry_handlers:
        if isinstance(handler, ServerErrorRetryHandler):
            handler.interval_calculator = FixedValueRetryIntervalCalculator(0.01)
    return client


def enqueue(sessions: sessionmaker[Session], *keys: str, channel: str = "#payments") -> None:
    with sessions.begin() as session:
        outbox = Outbox(session)
        for key in keys:
            text = f"message {key}"
            outbox.post(
                key=key,
                channel=channel,
                message=SlackMessage(
                    text=text,
                    blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                ),
                record=None,
                at=T0,
            )


def rows(sessions: sessionmaker[Session]) -> list[Notification]:
    with sessions() as session:
        return Outbox(session).list(limit=1000)


def test_make_client_points_at_the_base_url(fake_slack: FakeSlack) -> None:
    client = make_client(TOKEN, fake_slack.base_url.rstrip("/"))
    assert client.auth_test()["user_id"] == BOT_USER
    assert client.timeout == 10
    with pytest.raises(ValueError):
        make_client("", fake_slack.base_url)


def test_user_text_arrives_inert(sessions: sessionmaker[Session], fake_slack: FakeSlack) -> None:
    incident = sample_incident(title="<!channel> & <@U123> look", description="<!here>")
    with sessions.begin() as session:
        Outbox(session).post(
            key="INC-000042:logged",
            channel="#payments",
            message=render_message("incident_logged", incident=incident, buttons=[]),
            record="INC-000042",
            at=T0,
        )
    report = deliver_pending(sessions, make_client(TOKEN, fake_slack.base_url), now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (1, 0, 0)
    [received] = fake_slack.messages
    everything = received["text"] + json.dumps(received["blocks"])
    assert "<!channel>" not in everything and "<!here>" not in everything
    assert "<@U123>" not in everything
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt; look" in received["text"]
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt; look" in json.dumps(received["blocks"])


def test_rate_limit_is_waited_out_and_posts_once(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "k1")
    fake_slack.fail_next("chat.postMessage", 429, retry_after=1)
    report = deliver_pending(sessions, make_client(TOKEN, fake_slack.base_url), now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (1, 0, 0)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    [received] = fake_slack.messages
    [row] = rows(sessions)
    assert row.delivered_at is not None
    assert row.slack_ts == received["ts"]
    assert received["channel"] == "#payments"
    assert row.slack_channel == received["channel_id"] == fake_slack.channel("payments").id
    assert row.attempts == 1 and row.last_error is None


def test_server_errors_leave_the_row_for_the_next_run(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "k1")
    client = make_client(TOKEN, fake_slack.base_url)
    fake_slack.fail_next("chat.postMessage", 500, times=3)
    report = deliver_pending(sessions, client, now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (0, 1, 1)
    assert len(fake_slack.calls_to("chat.postMessage")) == 3  # one call, retried twice
    assert fake_slack.messages == []
    [row] = rows(sessions)
    assert row.delivered_at is None and row.attempts == 1
    assert row.last_error == "chat.postMessage: HTTP 500 internal_error"
    assert row.last_attempt_at is not None

    report = deliver_pending(sessions, client, now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (1, 0, 0)
    assert len(fake_slack.messages) == 1
    [row] = rows(sessions)
    assert row.attempts == 2 and row.slack_ts == fake_slack.messages[0]["ts"]

    report = deliver_pending(sessions, client, now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (0, 0, 0)
    assert len(fake_slack.messages) == 1


def test_a_delivered_row_is_never_sent_again(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "a", "b", "c")
    client = make_client(TOKEN, fake_slack.base_url)
    assert deliver_pending(sessions, client, now=Clock()).delivered == 3
    enqueue(sessions, "a", "d")  # a retried task re-enqueues "a": still only "d" is new
    assert deliver_pending(sessions, client, now=Clock()).delivered == 1
    assert deliver_pending(sessions, client, now=Clock()).delivered == 0
    assert [m["text"] for m in fake_slack.messages] == [
        "message a",
        "message b",
        "message c",
        "message d",
    ]


def test_delivery_follows_id_order_and_limit(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, *[f"k{n:02d}" for n in range(12)])
    client = make_client(TOKEN, fake_slack.base_url)
    report = deliver_pending(sessions, client, limit=5, now=Clock())
    assert (report.delivered, report.remaining) == (5, 7)
    deliver_pending(sessions, client, now=Clock())
    assert [m["text"] for m in fake_slack.messages] == [f"message k{n:02d}" for n in range(12)]
    timestamps = [m["ts"] for m in fake_slack.messages]
    assert timestamps == sorted(timestamps, key=float) and len(set(timestamps)) == 12


def test_slack_trouble_ends_the_run_and_keeps_the_order(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "first", "second")
    client = quick(make_client(TOKEN, fake_slack.base_url))
    fake_slack.fail_next("chat.postMessage", 503, times=3)
    report = deliver_pending(sessions, client, now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (0, 1, 2)
    assert [r.attempts for r in rows(sessions)] == [1, 0]  # "second" was not tried
    deliver_pending(sessions, client, now=Clock())
    assert [m["text"] for m in fake_slack.messages] == ["message first", "message second"]


def test_a_message_slack_refuses_does_not_block_the_others(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "bad", "good")
    fake_slack.fail_next("chat.postMessage", 200, body={"ok": False, "error": "channel_not_found"})
    report = deliver_pending(sessions, make_client(TOKEN, fake_slack.base_url), now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (1, 1, 1)
    bad, good = rows(sessions)
    assert bad.last_error == "chat.postMessage: HTTP 200 channel_not_found"
    assert bad.delivered_at is None and good.delivered_at is not None


def test_max_attempts_parks_a_row_that_keeps_failing(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "bad")
    client = make_client(TOKEN, fake_slack.base_url)
    refusal = {"ok": False, "error": "channel_not_found"}
    fake_slack.fail_next("chat.postMessage", 200, body=refusal, times=2)
    for _ in range(3):
        deliver_pending(sessions, client, now=Clock(), max_attempts=2)
    [row] = rows(sessions)
    assert row.attempts == 2 and row.delivered_at is None  # parked, not lost
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_a_bad_token_is_recorded_and_ends_the_run(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "a", "b")
    report = deliver_pending(sessions, make_client("xoxb-wrong", fake_slack.base_url), now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (0, 1, 2)
    assert rows(sessions)[0].last_error == "chat.postMessage: HTTP 200 invalid_auth"


def test_without_a_token_nothing_is_attempted_and_nothing_is_lost(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "a", "b")
    report = deliver_pending(sessions, None, now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (0, 0, 2)
    assert fake_slack.calls == []
    assert [(r.attempts, r.delivered_at) for r in rows(sessions)] == [(0, None), (0, None)]
    # Once a token exists, they go out.
    assert deliver_pending(sessions, make_client(TOKEN, fake_slack.base_url)).delivered == 2


def test_an_unreachable_slack_is_a_recorded_failure(sessions: sessionmaker[Session]) -> None:
    enqueue(sessions, "a")
    with FakeSlack() as gone:
        base_url = gone.base_url  # a port that nothing listens on once stopped
    report = deliver_pending(sessions, make_client(TOKEN, base_url), now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (0, 1, 1)
    [row] = rows(sessions)
    assert row.attempts == 1 and row.last_error.startswith("URLError: ")
    assert "Traceback" not in row.last_error


def open_channel(sessions: sessionmaker[Session], *, key: str = "INC-000042:channel") -> None:
    with sessions.begin() as session:
        Outbox(session).open_channel(
            key=key,
            name="inc-000042-checkout",
            members=["U0BOB22", "U0CAROL3"],
            topic="P1 checkout down <!channel>",
            record="INC-000042",
            at=T0,
        )


def test_open_channel_creates_invites_and_sets_the_topic(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    open_channel(sessions)
    report = deliver_pending(sessions, make_client(TOKEN, fake_slack.base_url), now=Clock())
    assert (report.delivered, report.failed) == (1, 0)
    channel = fake_slack.channel("inc-000042-checkout")
    assert channel is not None
    assert channel.members == {BOT_USER, "U0BOB22", "U0CAROL3"}
    assert channel.topic == "P1 checkout down &lt;!channel&gt;"
    [row] = rows(sessions)
    assert row.slack_channel == channel.id and row.delivered_at is not None
    assert [c["method"] for c in fake_slack.calls] == [
        "conversations.create",
        "conversations.invite",
        "conversations.invite",
        "conversations.setTopic",
    ]


def test_open_channel_reuses_a_channel_whose_name_is_taken(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    for n in range(250):  # the existing channel is on the second page of conversations.list
        fake_slack.add_channel(f"general-{n:03d}")
    existing = fake_slack.add_channel("inc-000042-checkout", members=("U0BOB22",))
    open_channel(sessions)
    report = deliver_pending(sessions, make_client(TOKEN, fake_slack.base_url), now=Clock())
    assert (report.delivered, report.failed) == (1, 0)
    [row] = rows(sessions)
    assert row.slack_channel == existing
    channel = fake_slack.channel("inc-000042-checkout")
    assert channel.id == existing and channel.members == {"U0BOB22", "U0CAROL3"}
    assert channel.topic == "P1 checkout down &lt;!channel&gt;"
    assert len(fake_slack.calls_to("conversations.list")) == 2


def test_open_channel_that_failed_half_way_completes_on_the_next_run(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    open_channel(sessions)
    client = quick(make_client(TOKEN, fake_slack.base_url))
    fake_slack.fail_next("conversations.setTopic", 500, times=3)
    report = deliver_pending(sessions, client, now=Clock())
    assert (report.delivered, report.failed) == (0, 1)
    assert rows(sessions)[0].last_error == "conversations.setTopic: HTTP 500 internal_error"
    report = deliver_pending(sessions, client, now=Clock())
    assert (report.delivered, report.failed) == (1, 0)
    channel = fake_slack.channel("inc-000042-checkout")
    assert channel.topic and channel.members == {BOT_USER, "U0BOB22", "U0CAROL3"}
    assert len(fake_slack.calls_to("conversations.create")) == 2  # second answered name_taken
    assert rows(sessions)[0].slack_channel == channel.id


def test_concurrent_deliverers_post_each_row_once(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    keys = [f"k{n:02d}" for n in range(30)]
    enqueue(sessions, *keys)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            deliver_pending(sessions, make_client(TOKEN, fake_slack.base_url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(m["text"] for m in fake_slack.messages) == [f"message {k}" for k in keys]
    assert all(r.delivered_at is not None for r in rows(sessions))
    with sessions() as session:
        ts = session.scalars(select(NotificationRecord.slack_ts)).all()
    assert len(set(ts)) == 30


def test_the_fake_wants_a_bearer_token(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=fake_slack.base_url).auth_test()
    assert raised.value.response["error"] == "not_authed"
    assert fake_slack.calls[-1]["method"] == "auth.test"
