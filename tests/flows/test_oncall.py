"""set-oncall-override through a real flow run: the override stored and audited as set
from a form (no ticket); a layer the group's schedule lacks refused, naming those it has. A
handoff announced to the incoming and the outgoing person, once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from flows.oncall.set_override import set_oncall_override
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import IncidentDraft
from serviceops.domain.oncall import Layer, Period, Schedule, SetOverride, UnknownSchedule
from serviceops.domain.request import Identity
from serviceops.store.audit import AuditRepository
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import OverrideRepository
from serviceops.store.request import IdentityRepository
from tasks.notifications import deliver_notifications
from tasks.oncall import send_handoffs
from tests.fakes.slack import FakeSlack
from tests.unit.test_oncall_desk import AT, load_dba


def test_the_override_form_runs_on_a_real_server_and_is_audited(
    serviceops_env: str, sessions: sessionmaker[Session]
) -> None:
    load_dba(sessions)
    form = SetOverride(
        group="dba",
        person="tess",
        starts_at=datetime(2026, 1, 13, 18, tzinfo=UTC),
        ends_at=datetime(2026, 1, 14, 9, tzinfo=UTC),
        reason="Dirk at a wedding",
        actor="dora",
    )
    assert set_oncall_override(form) == "OVR-000001"
    with sessions.begin() as session:
        assert [o.person for o in OverrideRepository(session).current(AT)] == ["tess"]
        (row,) = AuditRepository(session).for_record("OVR-000001")
    assert (row.action, row.actor, row.known_as) == ("override", "dora", "form")
    assert row.reason.startswith("tess on dba/primary from 2026-01-13T18:00:00+00:00")
    with pytest.raises(UnknownSchedule, match="dba has no layer secondary"):
        set_oncall_override(form.model_copy(update={"layer": "secondary"}))


def test_a_handoff_minutes_ago_tells_the_incoming_and_the_outgoing_person_once(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    """A daily rota whose handoff was five minutes ago: blake takes over from alex."""
    handed = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    rota = Layer(name="primary", members=["alex", "blake"], start=handed.date() - timedelta(days=1),
                 handoff=handed.time(), period=Period.DAILY)  # fmt: skip
    desk = Schedule(group="service-desk", manager="olivia", layers=[rota])
    with sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(oncall=[desk]), datetime.now(UTC), "t")
        for person, slack_id in (("alex", "U0ALEX"), ("blake", "U0BLAKE")):
            IdentityRepository(session).upsert(Identity(user=person, slack_user_id=slack_id))
        fire = {"service": "mail", "category": "hardware", "impact": "low", "urgency": "low"}
        logged = IncidentRepository(session).add(
            IncidentDraft(title="Printer on fire", reporter="dave", **fire), datetime.now(UTC)
        )
        IncidentRepository(session).save(
            logged.model_copy(update={"support_group": "service-desk"})
        )
    assert send_handoffs() == ["service-desk/primary: alex → blake"]
    assert send_handoffs() == []  # seen again by the next minute: queued already
    deliver_notifications()
    told = {m["channel"]: m["text"] for m in fake_slack.messages if m["channel"].startswith("U0")}
    assert told["U0BLAKE"].startswith(":pager: You are on call for service-desk (primary) from")
    assert told["U0BLAKE"].endswith(": 1 open incident(s), 0 page(s) waiting")
    assert "blake has it now" in told["U0ALEX"]
    assert len([m for m in fake_slack.messages if m["channel"].startswith("U0")]) == 2
