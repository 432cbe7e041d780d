"""Changes for the change tests: a draft with every field a form needs, logged at T0."""

from datetime import UTC, datetime, timedelta

from serviceops.domain.change import Change, ChangeDraft, ChangeState

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
START, END = T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2)


def draft(**fields: object) -> ChangeDraft:
    base: dict[str, object] = {
        "title": "Upgrade PostgreSQL on db-01",
        "cis": ["db-01"],
        "kind": "normal",
        "risk": "medium",
        "planned_start": START,
        "planned_end": END,
        "implementation_plan": "pg_upgrade, then restart",
        "backout_plan": "restore the snapshot",
        "requester": "robin",
    }
    return ChangeDraft.model_validate(base | fields)


def change(number: str = "CHG-000001", state: str = "new", **fields: object) -> Change:
    record = draft(**{k: v for k, v in fields.items() if k in ChangeDraft.model_fields})
    extra = {k: v for k, v in fields.items() if k not in ChangeDraft.model_fields}
    return Change(
        **record.model_dump(),
        number=number,
        state=ChangeState(state),
        created_at=T0,
        updated_at=T0,
        **extra,
    )
