"""An incident's own message is updated in place and its changes go in its thread: through the
real slack-sdk client against FakeSlack, an update is delivered as chat.update of the message
it names (once that is delivered: until then it waits, and nothing is lost), and a reply is
posted in the thread of the message it names (on its own when that one is not delivered)."""

from sqlalchemy.orm import Session, sessionmaker

from serviceops.notify.delivery import deliver_pending
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import SlackMessage
from serviceops.notify.slack import make_client
from tests.fakes.slack import FakeSlack
from tests.unit.test_slack_delivery import T0, TOKEN, Clock, enqueue, quick, rows


def _message(text: str) -> SlackMessage:
    return SlackMessage(
        text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    )


def _queue_update(sessions: sessionmaker[Session], key: str, of: str, text: str) -> None:
    with sessions.begin() as session:
        Outbox(session).update(key=key, of=of, message=_message(text), record=None, at=T0)


def _queue_reply(sessions: sessionmaker[Session], key: str, thread_of: str) -> None:
    with sessions.begin() as session:
        Outbox(session).post(
            key=key,
            channel="#payments",
            message=_message(f"reply {key}"),
            record=None,
            at=T0,
            thread_of=thread_of,
        )


def test_an_update_replaces_the_message_and_a_reply_goes_in_its_thread(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "INC-1:logged")
    _queue_update(sessions, "INC-1:ack:update", of="INC-1:logged", text="acknowledged by bob")
    _queue_reply(sessions, "INC-1:ack", thread_of="INC-1:logged")
    client = quick(make_client(TOKEN, fake_slack.base_url))
    report = deliver_pending(sessions, client, now=Clock())
    assert (report.delivered, report.failed, report.remaining) == (3, 0, 0)
    original, reply = fake_slack.messages
    assert original["text"] == "acknowledged by bob"  # the same message, changed in place
    assert reply["thread_ts"] == original["ts"] and reply["channel_id"] == original["channel_id"]
    (update,) = fake_slack.calls_to("chat.update")
    assert update["params"]["ts"] == original["ts"]


def test_an_update_waits_for_its_message_and_is_delivered_once_it_is(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    enqueue(sessions, "INC-2:logged")
    _queue_update(sessions, "INC-2:ack:update", of="INC-2:logged", text="now")
    _queue_reply(sessions, "INC-2:ack", thread_of="INC-2:logged")
    client = quick(make_client(TOKEN, fake_slack.base_url))
    fake_slack.fail_next("chat.postMessage", status=200, body={"ok": False, "error": "is_archived"})
    deliver_pending(sessions, client, now=Clock())
    waiting = {row.key: row for row in rows(sessions)}
    assert waiting["INC-2:logged"].delivered_at is None
    assert waiting["INC-2:ack:update"].last_error == "waiting for INC-2:logged to be delivered"
    assert fake_slack.calls_to("chat.update") == []
    (alone,) = fake_slack.messages  # the reply went out on its own
    assert alone["thread_ts"] is None

    report = deliver_pending(sessions, client, now=Clock())
    assert report.remaining == 0
    assert len(fake_slack.calls_to("chat.update")) == 1
    assert [m["text"] for m in fake_slack.messages] == ["reply INC-2:ack", "now"]
