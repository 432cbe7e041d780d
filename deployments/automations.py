"""`python -m deployments.automations [disable]`: the dead-man automations, declared here,
created (or brought up to date, and enabled) on the Prefect server by `make up`, and disabled
by `make down`.

One per kind of routine check: a proactive trigger expects the check round's
`serviceops.checks.reported` event within three of its intervals (at least ten minutes, so a
busy machine delaying a run is not an outage); when it does not come, the automation runs
record-missed-check, which raises the incident through event management.
"""

import logging
import sys
from datetime import timedelta
from uuid import UUID

from prefect import get_client
from prefect.automations import Automation, EventTrigger, Posture, RunDeployment

from deployments.definitions import ON_DEMAND
from flows.event.record_missed_check import record_missed_check
from flows.operations.run_checks import CHECKS_REPORTED, reporter_resource
from serviceops.domain.cmdb import DEFAULT_SCHEDULES, CheckKind
from serviceops.settings import get_settings
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import sessions_for

logger = logging.getLogger(__name__)

MIN_WINDOW = timedelta(minutes=10)
NAME_PREFIX = "serviceops dead-man: "
assert record_missed_check in ON_DEMAND


def window_for(interval_s: int, min_window: timedelta = MIN_WINDOW) -> timedelta:
    return max(timedelta(seconds=3 * interval_s), min_window)


def deadman_automations(
    deployment_id: UUID,
    schedules: dict[CheckKind, int] | None = None,
    min_window: timedelta = MIN_WINDOW,
) -> list[Automation]:
    """One automation per kind of check, running `deployment_id` (record-missed-check) when
    the kind's report has not come for three intervals (and `min_window`)."""
    intervals = DEFAULT_SCHEDULES | (schedules or {})
    automations = []
    for kind in CheckKind:
        window = window_for(intervals[kind], min_window)
        automations.append(
            Automation(
                name=f"{NAME_PREFIX}{kind.value}-checks",
                description=(
                    f"Raises an incident when the {kind.value} checks have not reported "
                    f"for {int(window.total_seconds() // 60)} minutes."
                ),
                enabled=True,
                trigger=EventTrigger(
                    posture=Posture.Proactive,
                    expect={CHECKS_REPORTED},
                    match={"prefect.resource.id": reporter_resource(kind)},
                    threshold=1,
                    within=window,
                ),
                actions=[
                    RunDeployment(
                        source="selected",
                        deployment_id=deployment_id,
                        parameters={
                            "missed": {"kind": kind.value, "window_s": int(window.total_seconds())}
                        },
                    )
                ],
            )
        )
    return automations


def ensure_automations() -> list[str]:
    """Create the dead-man automations, or update them to the declared ones; their names."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(
            f"{record_missed_check.name}/{record_missed_check.name}"
        )
    with sessions_for(get_settings().resolved_database_url).begin() as session:
        schedules = CatalogueRepository(session).catalogue().schedules
    names = []
    for declared in deadman_automations(deployment.id, schedules):
        try:
            existing = Automation.read(name=declared.name)
        except ValueError:
            declared.create()
        else:
            updated = declared.model_copy(update={"id": existing.id})
            updated.update()
        names.append(declared.name)
    return names


def disable_automations() -> list[str]:
    """Disable the dead-man automations: `make down` stops the checks on purpose, and the
    silence that follows is not an outage (the next `make up` enables them again)."""
    names = []
    for kind in CheckKind:
        name = f"{NAME_PREFIX}{kind.value}-checks"
        try:
            Automation.read(name=name).disable()
        except ValueError:
            continue
        names.append(name)
    return names


if __name__ == "__main__":
    logging.basicConfig(format="  %(message)s")
    logger.setLevel(logging.INFO)
    if sys.argv[1:] == ["disable"]:
        logger.info("dead-man automations disabled: %s", ", ".join(disable_automations()))
    else:
        logger.info("dead-man automations: %s", ", ".join(ensure_automations()))
