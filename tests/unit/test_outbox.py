"""Recording notifications: in the caller's transaction, once per key, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from serviceops.notify.outbox import Outbox
from serviceops.notify.render import SlackMessage
from serviceops.store.notifications import NotificationRecord

T0 = datetime(2026, 11, 26, 14, 5, tzinfo=UTC)


def message(text: str = "INC-000001 logged") -> SlackMessage:
    return SlackMessage(
        text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    )


def test_post_records_the_slack_call(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert Outbox(session).post(
            key="INC-000001:logged",
            channel="#payments",
            message=message(),
            record="INC-000001",
            at=T0,
        )
    with sessions() as session:
        row = session.scalars(select(NotificationRecord)).one()
        assert row.method == "chat.postMessage"
        assert row.payload == {
            "channel": "#payments",
            "text": "INC-000001 logged",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "INC-000001 logged"}}
            ],
        }
        [notification] = Outbox(session).list()
    assert notification.key == "INC-000001:logged"
    assert notification.record == "INC-000001"
    assert notification.channel == "#payments"
    assert notification.text == "INC-000001 logged"
    assert notification.created_at == T0
    assert notification.attempts == 0
    assert notification.delivered_at is None and notification.last_error is None


def test_a_duplicate_key_is_recorded_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        outbox = Outbox(session)
        assert outbox.post(key="k1", channel="#a", message=message("first"), record=None, at=T0)
        assert not outbox.post(key="k1", channel="#a", message=message("again"), record=None, at=T0)
    # A retried task runs in a new transaction: still nothing new, and no error.
    with sessions.begin() as session:
        assert not Outbox(session).post(
            key="k1", channel="#b", message=message("retry"), record=None, at=T0
        )
        assert not Outbox(session).open_channel(
            key="k1", name="inc-1", members=[], topic="t", record=None, at=T0
        )
    with sessions() as session:
        [only] = Outbox(session).list()
    assert only.text == "first" and only.channel == "#a"


def test_the_caller_transaction_owns_the_record(sessions: sessionmaker[Session]) -> None:
    """A notification for a change that rolls back is never sent."""
    with pytest.raises(RuntimeError), sessions.begin() as session:
        Outbox(session).post(key="k", channel="#a", message=message(), record=None, at=T0)
        raise RuntimeError("the flow's change failed")
    with sessions() as session:
        assert Outbox(session).list() == []
    # ... and the key is free again for the retry that succeeds.
    with sessions.begin() as session:
        assert Outbox(session).post(key="k", channel="#a", message=message(), record=None, at=T0)


def test_list_is_in_delivery_order_and_filters(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        outbox = Outbox(session)
        for n in range(5):
            outbox.post(
                key=f"k{n}",
                channel="#a",
                message=message(f"m{n}"),
                record=None,
                at=T0 + timedelta(seconds=n),
            )
    with sessions.begin() as session:
        first = session.scalars(select(NotificationRecord).where(NotificationRecord.key == "k1"))
        first.one().delivered_at = T0
    with sessions() as session:
        outbox = Outbox(session)
        assert [n.text for n in outbox.list()] == ["m0", "m1", "m2", "m3", "m4"]
        assert [n.text for n in outbox.list(limit=2)] == ["m0", "m1"]
        assert [n.text for n in outbox.list(undelivered_only=True)] == ["m0", "m2", "m3", "m4"]


def test_open_channel_records_name_members_and_a_safe_topic(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        assert Outbox(session).open_channel(
            key="INC-000042:channel",
            name="inc-000042-checkout",
            members=["U1AAA", "U2BBB"],
            topic="P1 <!channel> " + "x" * 400,
            record="INC-000042",
            at=T0,
        )
    with sessions() as session:
        row = session.scalars(select(NotificationRecord)).one()
        [notification] = Outbox(session).list()
    assert row.method == "conversations.create"
    assert row.channel == "inc-000042-checkout"
    assert row.payload["members"] == ["U1AAA", "U2BBB"]
    assert row.payload["topic"].startswith("P1 &lt;!channel&gt; xxx")
    assert len(row.payload["topic"]) == 250
    assert notification.text == row.payload["topic"]


@pytest.mark.parametrize("name", ["", "Has Caps", "with space", "dot.ted", "-lead", "x" * 81])
def test_open_channel_refuses_names_slack_would_refuse(
    sessions: sessionmaker[Session], name: str
) -> None:
    with sessions.begin() as session, pytest.raises(ValueError, match="channel name"):
        Outbox(session).open_channel(key="k", name=name, members=[], topic="", record=None, at=T0)


def test_post_needs_a_channel(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session, pytest.raises(ValueError):
        Outbox(session).post(key="k", channel="", message=message(), record=None, at=T0)
