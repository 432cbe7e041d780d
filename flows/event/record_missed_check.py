"""record-missed-check: the dead-man alert. A Prefect automation runs it when a routine
check has not reported within its window; it records the condition as an event, so the
incident it raises is deduplicated and resolved like any other alert's."""

from prefect import flow

from flows.event.process_events import process_events
from serviceops import deployment_names as names
from serviceops.domain.event import MissedCheck
from tasks.events import record_missed_check_event


@flow(name=names.RECORD_MISSED_CHECK)
def record_missed_check(missed: MissedCheck) -> str:
    """Record that a kind of check went silent, and process it at once.

    Args:
        missed: The kind of check that went silent, and since when.
    """
    number = record_missed_check_event(missed)
    process_events()
    return number
