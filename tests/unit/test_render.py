"""Templates and escaping: user text can never ping, break the JSON, or reach Python internals."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jinja2 import TemplateRuntimeError, UndefinedError
from jinja2.exceptions import SecurityError

from serviceops.domain.incident import (
    BreachLevel,
    BusinessCalendar,
    Incident,
    IncidentState,
    KnownErrorMatch,
    SlaAlert,
    SlaKind,
    Source,
    pause_clock,
    start_clock,
    stop_clock,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.oncall import Handoff, Page, Paged, PageState
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.provenance import Channel
from serviceops.notify import render
from serviceops.notify.render import (
    RenderError,
    SlackMessage,
    duration,
    environment,
    render_message,
    render_text,
    when,
)

T0 = datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
HOSTILE = '<!channel> & <@U123> "quoted" \\ back'


def sample_incident(**changes: Any) -> Incident:
    """A P1 incident as the logging flow leaves it: routed, SLA clocks running, KE matched."""
    calendar = BusinessCalendar(always_open=True)
    incident = Incident(
        number="INC-000042",
        title="Checkout returns 502 for card payments",
        description="Since 14:00 every card payment fails.\nPayPal still works.",
        service="payments",
        category="application/checkout",
        impact=Impact.HIGH,
        urgency=Urgency.HIGH,
        priority=Priority.CRITICAL,
        reporter="U0ALICE1",
        source=Source.MONITORING,
        state=IncidentState.ASSIGNED,
        support_group="payments-l2",
        assignee="U0BOB22",
        known_error=KnownErrorMatch(
            number="KE-000007",
            title="Connection pool exhausted after deploy",
            workaround="Restart the checkout pods: kubectl rollout restart deploy/checkout",
        ),
        response_sla=start_clock(SlaKind.RESPONSE, calendar, T0, timedelta(minutes=15)),
        resolution_sla=start_clock(SlaKind.RESOLUTION, calendar, T0, timedelta(hours=1)),
        created_at=T0,
        updated_at=T0 + timedelta(minutes=3),
        acknowledged_at=T0 + timedelta(minutes=3),
        major=True,
        major_channel="inc-000042-checkout",
    )
    return incident.model_copy(update=changes)


def bare_incident() -> Incident:
    """Just logged, nothing derived yet: every optional field is None."""
    return Incident(
        number="INC-000001",
        title="Printer on floor 3 jams",
        description="",
        service="printing",
        category="hardware",
        impact=Impact.LOW,
        urgency=Urgency.LOW,
        reporter="alice@example.com",
        source=Source.USER,
        state=IncidentState.NEW,
        created_at=T0,
        updated_at=T0,
    )


def change(action: str = "start_work", **fields: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "record": "INC-000042",
        "action": action,
        "actor": "U0BOB22",
        "at": T0 + timedelta(minutes=5),
        "from_state": "assigned",
        "to_state": "in_progress",
        "reason": "",
    }
    return AuditEntry(**(values | fields))


def page(*, exhausted: bool = False) -> Page:
    paged = [Paged(step=0, persons=["alex"], at=T0), Paged(step=1, persons=["casey"], at=T0)]
    return Page(
        number="PGE-000001",
        incident="INC-000042",
        group="payments-l2",
        state=PageState.EXHAUSTED if exhausted else PageState.PAGING,
        step=1,
        opened_at=T0,
        updated_at=T0,
        paged=paged,
    )


HANDOFF = Handoff(group="payments-l2", layer="primary", outgoing="alex", incoming="blake", at=T0)


def contexts() -> dict[str, dict[str, Any]]:
    """A realistic context for every Slack template (besides `incident`)."""
    return {
        "incident_logged": {
            "buttons": [
                {
                    "label": "Acknowledge",
                    "action_id": "incident_step:acknowledge-incident",
                    "value": '{"number": "INC-000042", "step": "acknowledge-incident"}',
                }
            ]
        },
        "incident_changed": {"change": change()},
        "sla_warning": {
            "alert": SlaAlert(
                kind=SlaKind.RESPONSE, level=BreachLevel.WARNING, due_at=T0 + timedelta(minutes=15)
            )
        },
        "sla_breach": {
            "alert": SlaAlert(
                kind=SlaKind.RESOLUTION, level=BreachLevel.BREACHED, due_at=T0 + timedelta(hours=1)
            )
        },
        "escalation": {
            "change": change(
                "escalate_functional",
                to_state="assigned",
                reason="Load balancer drops TLS handshakes",
            )
        },
        "major_opened": {"channel": "major-inc-000042"},
        "page": {"page": page(), "button": '{"number": "PGE-000001"}'},
        "page_exhausted": {"page": page(exhausted=True)},
        "page_group": {"page": page(), "button": '{"number": "PGE-000001"}', "group": "S0DBA"},
        "major_status": {
            "now": T0 + timedelta(hours=1, minutes=30),
            "notes": ["Rolled back deploy 4711", "Error rate down to 2%"],
        },
    }


SLACK_TEMPLATES = sorted(contexts())


def handoff_contexts() -> dict[str, dict[str, Any]]:
    """The on-call handoff messages: about a group's shift, not one incident."""
    incidents = [sample_incident()]
    return {
        "handoff_incoming": {"handoff": HANDOFF, "incidents": incidents, "pages": [page()]},
        "handoff_outgoing": {"handoff": HANDOFF, "incidents": incidents, "pages": []},
    }


def all_text(message: SlackMessage) -> str:
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


def test_every_slack_template_has_a_context_here() -> None:
    from tests.unit.test_event_templates import EVENT_TEMPLATES
    from tests.unit.test_ops_report import REPORT_TEMPLATES
    from tests.unit.test_problem_templates import PROBLEM_TEMPLATES
    from tests.unit.test_request_templates import REQUEST_TEMPLATES

    on_disk = {p.name.removesuffix(".json.j2") for p in render.TEMPLATES.glob("*.json.j2")}
    families = (
        REQUEST_TEMPLATES,
        EVENT_TEMPLATES,
        REPORT_TEMPLATES,
        PROBLEM_TEMPLATES,
        handoff_contexts(),
    )
    assert on_disk == set(SLACK_TEMPLATES).union(*families)


@pytest.mark.parametrize("name", sorted(p.name for p in render.TEMPLATES.glob("*.j2")))
def test_every_template_documents_its_context(name: str) -> None:
    head = (render.TEMPLATES / name).read_text().split("#}", 1)[0]
    assert head.startswith("{#-") and "Context:" in head


@pytest.mark.parametrize("name", SLACK_TEMPLATES)
@pytest.mark.parametrize("make", [sample_incident, bare_incident], ids=["full", "bare"])
def test_every_slack_template_renders_valid_block_kit(name: str, make: Any) -> None:
    incident = make()
    extra = dict(contexts()[name])
    if name == "major_opened" and make is bare_incident:
        extra["channel"] = None
    message = render_message(name, incident=incident, **extra)
    assert incident.number in message.text
    assert message.blocks and all("type" in block for block in message.blocks)
    for block in message.blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            assert len(block.get("fields", [])) <= 10
    assert "None" not in all_text(message)


def test_a_page_is_a_direct_message_with_an_acknowledge_button() -> None:
    message = render_message("page", incident=sample_incident(), **contexts()["page"])
    assert message.text.startswith(":rotating_light: PGE-000001: you are paged for INC-000042")
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    (button,) = actions["elements"]
    assert (button["action_id"], button["value"]) == ("page_ack", '{"number": "PGE-000001"}')
    told = render_message(
        "page_exhausted", incident=sample_incident(), **contexts()["page_exhausted"]
    )
    assert "paged alex; casey" in all_text(told)


def test_a_handoff_tells_the_incoming_person_what_they_take_over() -> None:
    handoff = handoff_contexts()
    incoming = all_text(render_message("handoff_incoming", **handoff["handoff_incoming"]))
    assert "You are on call for payments-l2" in incoming and "from alex" in incoming
    assert "INC-000042 P1 Critical" in incoming and "PGE-000001 for INC-000042" in incoming
    outgoing = all_text(render_message("handoff_outgoing", **handoff["handoff_outgoing"]))
    assert "blake has it now, with 1 open incident(s) and 0 page(s) waiting" in outgoing
    many = handoff["handoff_incoming"] | {"incidents": [sample_incident()] * 12}
    listed = all_text(render_message("handoff_incoming", **many))
    assert listed.count("INC-000042") == 10 + 1  # ten listed, and the waiting page's
    assert "… and 2 more" in listed and "*Open incidents:* 12" in listed


def test_a_slack_user_group_is_mentioned_and_a_look_alike_is_not() -> None:
    message = render_message("page_group", incident=sample_incident(), **contexts()["page_group"])
    assert message.text.startswith(":rotating_light: PGE-000001: <!subteam^S0DBA> paged for")
    context = contexts()["page_group"] | {"group": "<!channel>"}
    inert = render_message("page_group", incident=sample_incident(), **context)
    assert "<!channel>" not in all_text(inert) and "&lt;!channel&gt;" in inert.text


def test_logged_message_carries_the_facts() -> None:
    message = render_message("incident_logged", incident=sample_incident(), buttons=[])
    text = all_text(message)
    for expected in (
        "INC-000042",
        "P1 Critical",
        "payments",
        "application/checkout",
        "high / high",
        "payments-l2",
        "2026-11-26 14:20 UTC",  # response due
        "2026-11-26 15:05 UTC",  # resolution due
        "KE-000007",
        "kubectl rollout restart deploy/checkout",
        "<@U0ALICE1>",  # a Slack user id becomes a mention
    ):
        assert expected in text, expected


@pytest.mark.parametrize("name", SLACK_TEMPLATES)
def test_user_text_is_slack_escaped_everywhere(name: str) -> None:
    incident = sample_incident(
        title=HOSTILE,
        description=HOSTILE,
        support_group=HOSTILE,
        known_error=KnownErrorMatch(number="KE-1", title=HOSTILE, workaround=HOSTILE),
    )
    extra = contexts()[name]
    if "change" in extra:
        extra["change"] = extra["change"].model_copy(update={"actor": HOSTILE, "reason": HOSTILE})
    if name == "major_status":
        extra["notes"] = [HOSTILE]
    message = render_message(name, incident=incident, **extra)
    text = all_text(message)
    assert "<!channel>" not in text
    assert "<@U123>" not in text
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in message.text
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in json.dumps(message.blocks)


def test_quotes_backslashes_and_newlines_survive_as_data() -> None:
    incident = sample_incident(title=HOSTILE, description='line 1\nline 2\t"x"\x07')
    message = render_message("incident_logged", incident=incident, buttons=[])
    title_block = message.blocks[1]["text"]["text"]
    assert title_block == (
        '*&lt;!channel&gt; &amp; &lt;@U123&gt; "quoted" \\ back*\nline 1\nline 2\t"x"\x07'
    )


def test_only_real_user_ids_become_mentions() -> None:
    for reporter, expected in [
        ("U0ALICE1", "<@U0ALICE1>"),
        ("W0ENTERP", "<@W0ENTERP>"),
        ("<@U0ALICE1>", "&lt;@U0ALICE1&gt;"),
        ("alice <!here>", "alice &lt;!here&gt;"),
    ]:
        message = render_message(
            "incident_logged", incident=sample_incident(reporter=reporter), buttons=[]
        )
        assert f"*Reporter*\\n{expected}" in json.dumps(message.blocks), reporter


def test_a_missing_variable_raises() -> None:
    with pytest.raises(UndefinedError, match="change"):
        render_message("incident_changed", incident=sample_incident())


def test_a_missing_attribute_raises() -> None:
    with pytest.raises(UndefinedError):
        environment().from_string("{{ incident.no_such_field }}").render(incident=sample_incident())


def test_printing_none_raises() -> None:
    with pytest.raises(TemplateRuntimeError, match="None"):
        environment().from_string('"{{ value }}"').render(value=None)


def test_the_sandbox_keeps_templates_out_of_python_internals() -> None:
    with pytest.raises(SecurityError):
        environment().from_string("{{ incident.__class__.__mro__ }}").render(
            incident=sample_incident()
        )


@pytest.fixture
def scratch_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the environment at a scratch directory (for templates that are wrong on purpose)."""
    monkeypatch.setattr(render, "TEMPLATES", tmp_path)
    environment.cache_clear()
    yield tmp_path
    environment.cache_clear()


def test_a_template_that_breaks_json_is_reported_with_its_line(scratch_templates: Path) -> None:
    (scratch_templates / "broken.json.j2").write_text(
        '{\n  "text": "{{ title }}",\n  "blocks": [{"type": "divider"},]\n}\n'
    )
    with pytest.raises(RenderError, match=r"broken\.json\.j2 .* line 3"):
        render_message("broken", title="x")


def test_a_template_that_is_not_a_message_is_refused(scratch_templates: Path) -> None:
    (scratch_templates / "nomsg.json.j2").write_text('{"text": "{{ title }}"}')
    with pytest.raises(RenderError, match="blocks"):
        render_message("nomsg", title="x")


def test_markdown_and_slack_templates_are_not_mixed_up() -> None:
    with pytest.raises(RenderError):
        render_message("incident_summary.md.j2", incident=sample_incident())
    with pytest.raises(RenderError):
        render_text("incident_logged.json.j2", incident=sample_incident())


def test_filters() -> None:
    assert when(T0) == "2026-11-26 14:05 UTC"
    assert when(T0, "Europe/Paris") == "2026-11-26 15:05 CET"
    assert when(None) == "—"
    with pytest.raises(TemplateRuntimeError):
        when(datetime(2026, 1, 1))
    assert duration(timedelta(seconds=45)) == "45s"
    assert duration(timedelta(minutes=12, seconds=30)) == "12m"
    assert duration(timedelta(hours=1, minutes=5)) == "1h 05m"
    assert duration(timedelta(days=2, hours=3, minutes=9)) == "2d 3h"
    assert duration(timedelta(days=1)) == "1d"
    assert duration(-timedelta(minutes=15)) == "-15m"
    assert duration(90) == "1m"
    assert duration(None) == "—"


def test_sla_wording_in_slack() -> None:
    warning = render_message("sla_warning", incident=sample_incident(), **contexts()["sla_warning"])
    assert "INC-000042 response SLA due at 2026-11-26 14:20 UTC" in warning.text
    breach = render_message("sla_breach", incident=sample_incident(), **contexts()["sla_breach"])
    assert "INC-000042 breached its resolution SLA (due 2026-11-26 15:05 UTC)" in breach.text


def test_change_and_escalation_wording() -> None:
    changed = render_message(
        "incident_changed", incident=sample_incident(), change=change(reason="pods restarted")
    )
    assert changed.text.startswith("INC-000042 start work by U0BOB22: assigned → in progress")
    assert "> pods restarted" in all_text(changed)
    functional = render_message(
        "escalation", incident=sample_incident(), **contexts()["escalation"]
    )
    assert "escalated (functional) to payments-l2 by U0BOB22" in functional.text
    hierarchic = render_message(
        "escalation", incident=sample_incident(), change=change("escalate_hierarchic")
    )
    assert "escalated (hierarchic) by U0BOB22" in hierarchic.text
    assert "none given" in all_text(hierarchic)


def test_major_status_shows_elapsed_state_assignee_and_notes() -> None:
    message = render_message(
        "major_status", incident=sample_incident(), **contexts()["major_status"]
    )
    text = all_text(message)
    assert "1h 30m" in text and "assigned" in text and "<@U0BOB22>" in text
    assert "Rolled back deploy 4711" in text
    empty = render_message(
        "major_status", incident=sample_incident(), now=T0 + timedelta(hours=2), notes=[]
    )
    assert "no new notes" in all_text(empty)


def test_incident_summary_markdown() -> None:
    calendar = BusinessCalendar(always_open=True)
    incident = sample_incident(
        title="Checkout <b>down</b> & out",
        reporter="carol|dave",
        resolution_sla=pause_clock(
            sample_incident().resolution_sla, calendar, T0 + timedelta(minutes=20)
        ),
        response_sla=stop_clock(sample_incident().response_sla, T0 + timedelta(minutes=3)),
    )
    audit = [
        AuditEntry(
            record="INC-000042",
            action="log",
            actor="monitoring",
            at=T0,
            from_state=None,
            to_state="new",
        ),
        AuditEntry(
            record="INC-000042",
            action="assign",
            actor="router",
            at=T0,
            from_state="new",
            to_state="assigned",
            reason="rule payments -> l2\nfirst",
            via=Channel.SLACK,
            actor_ref="U0ROUTER",
        ),
    ]
    text = render_text("incident_summary", incident=incident, audit=audit, actions=[])
    assert text.startswith("# INC-000042: Checkout <b>down</b> & out\n")  # no Slack/HTML escaping
    assert "| Reporter | carol\\|dave |" in text  # table cells stay one cell
    assert "| Priority | P1 Critical — **major incident** |" in text
    assert "| response (15m) | met at 2026-11-26 14:08 UTC |" in text
    assert "| resolution (1h 00m) | paused (40m left) |" in text
    assert "**KE-000007** Connection pool exhausted after deploy" in text
    assert (
        "| 2026-11-26 14:05 UTC | assign | router | slack U0ROUTER | new | assigned "
        "| rule payments -> l2<br>first |"
    ) in text
    assert "| 2026-11-26 14:05 UTC | log | monitoring | - | — | new |  |" in text


def test_incident_summary_of_a_bare_incident() -> None:
    text = render_text("incident_summary", incident=bare_incident(), audit=[], actions=[])
    assert "| Priority | unprioritised |" in text
    assert "no SLA targets" in text and "No known error matched." in text
    assert "no entries" in text and "None" not in text
