"""The event-management Slack template: valid Block Kit for every kind of notice, the
monitoring source's text inert (a summary cannot ping a channel), the limit shown."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from serviceops.domain.event import (
    Alert,
    AlertState,
    Notice,
    NoticeKind,
    Response,
    Significance,
    Silence,
    reminders,
)
from serviceops.notify.render import render_message

EVENT_TEMPLATES = ("alert_notice", "silence_reminder")
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HOSTILE = '<!channel> {{ 7*7 }} "quoted" \\ <script> & co'


def alert(**fields: object) -> Alert:
    values: dict[str, object] = {
        "number": "ALR-000042",
        "key": "mx-1",
        "service": "mail",
        "ci": "mx-1",
        "title": HOSTILE,
        "state": AlertState.OPEN,
        "significance": Significance.WARNING,
        "response": Response.NOTIFY,
        "firing": ["fp:1", "fp:2"],
        "fingerprints": ["fp:1", "fp:2"],
        "event_count": 17,
        "notified": 2,
        "first_event_at": T0,
        "last_event_at": T0,
    }
    return Alert.model_validate(values | fields)


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_alert_notice_is_block_kit_with_the_summary_escaped(kind: NoticeKind) -> None:
    notice = Notice(kind=kind, alert_key=0, ordinal=2, summary=HOSTILE)
    message = render_message("alert_notice", alert=alert(), notice=notice, limit=5)
    blocks = json.loads(json.dumps(message.blocks))
    assert [block["type"] for block in blocks] == ["section", "context"]
    text = message.text + json.dumps(blocks)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "{{ 7*7 }}" in message.text  # shown, not evaluated
    assert "ALR-000042" in message.text and "mx-1" in message.text
    assert "message 2 of at most 5" in blocks[1]["elements"][0]["text"]
    assert "17 event(s), 2 condition(s) firing" in blocks[1]["elements"][0]["text"]


def test_alert_notice_names_the_incident_once_raised() -> None:
    notice = Notice(kind=NoticeKind.ESCALATED, alert_key=0, ordinal=1, summary="down")
    raised = alert(incident_number="INC-000007", response=Response.INCIDENT)
    message = render_message("alert_notice", alert=raised, notice=notice, limit=5)
    assert "INC-000007" in message.blocks[1]["elements"][0]["text"]


def test_silence_reminders_are_block_kit_with_the_reason_escaped() -> None:
    silence = Silence(
        number="SIL-000007",
        ci="db-01",
        check="DiskFull",
        ends_at=T0 + timedelta(minutes=10),
        reason=HOSTILE,
        owner="alex",
        created_at=T0,
        updated_at=T0,
        extensions=3,
    )
    ending, extended = reminders(silence, T0)
    for reminder in (ending, extended):
        message = render_message("silence_reminder", reminder=reminder)
        text = message.text + json.dumps(message.blocks)
        assert [block["type"] for block in message.blocks] == ["section", "context"]
        assert "<!channel>" not in text and "&lt;!channel&gt;" in text
        assert "ci db-01, check DiskFull" in message.text
    ending_text = render_message("silence_reminder", reminder=ending)
    assert ending_text.text.startswith(":hourglass_flowing_sand: SIL-000007 ends at 2026-11-26")
    assert "serviceops silence extend SIL-000007" in json.dumps(ending_text.blocks)
    told = render_message("silence_reminder", reminder=extended)
    assert told.text.startswith(":warning: SIL-000007 has been extended 3 times")
