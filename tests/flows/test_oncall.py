"""set-oncall-override through a real flow run: the override stored and audited as set
from a form (no ticket); a layer the group's schedule lacks refused, naming those it has."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from flows.oncall.set_override import set_oncall_override
from serviceops.domain.oncall import SetOverride, UnknownSchedule
from serviceops.store.audit import AuditRepository
from serviceops.store.oncall import OverrideRepository
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
