"""Maintenance windows: while a change is implementing, its CIs and everything that needs them
make no noise. The correlator already holds alerts for silences; an implementing change is
held to it as the silences it stands for, numbered with the change's number, one per item and
per way an event may name it (as its CI or as its service). They last while the change is
implementing: it ends them by leaving that state, not by a clock."""

from datetime import UTC, datetime

from serviceops.domain.change.record import Change, ChangeState
from serviceops.domain.cmdb.dependencies import Dependencies
from serviceops.domain.event.silences import Silence

# A window's end is the change's leaving `implementing`; the correlator needs a date.
UNTIL_IT_ENDS = datetime(9999, 12, 31, tzinfo=UTC)


def maintenance_windows(change: Change, dependencies: Dependencies) -> list[Silence]:
    """The silences of an implementing change; none for a change in any other state."""
    if change.state is not ChangeState.IMPLEMENTING:
        return []
    names = dict.fromkeys(change.cis)
    for ci in change.cis:
        names.update(dict.fromkeys(sorted(dependencies.dependents(ci))))
    reason = f"{change.number} implementing: {change.title}"[:500]
    started = change.started_at or change.updated_at
    common = {
        "number": change.number,
        "reason": reason,
        "owner": change.requester,
        "ends_at": UNTIL_IT_ENDS,
        "created_at": started,
        "updated_at": change.updated_at,
    }
    return [
        window
        for name in names
        for window in (Silence(ci=name, **common), Silence(service=name, **common))
    ]
