"""log-incident: identification through notification, each ITIL step a task in the run graph."""

from prefect import flow, get_run_logger

from flows.incident.artifacts import publish_summary
from flows.incident.major_incident import major_incident_procedure
from flows.oncall.paging import page_step_of
from serviceops import deployment_names as names
from serviceops.domain.incident import IncidentDraft
from tasks.incident import (
    assign_incident,
    categorize_incident,
    diagnose_incident,
    notify_incident_logged,
    prioritize_incident,
    record_incident,
    set_sla_due_times,
)
from tasks.notifications import deliver_notifications
from tasks.paging import should_page


@flow(name=names.LOG_INCIDENT, log_prints=False)
def log_incident(incident: IncidentDraft) -> str:
    """Log, categorize, prioritize, diagnose, assign, time and announce a new incident, and
    page its support group's on-call when the incident policy says so.

    Returns the incident number. Priority 1, or the major flag, takes the major path.

    Args:
        incident: What is known so far; the rules set priority, group and SLA.
    """
    number = record_incident(incident).number
    categorize_incident(number)
    prioritized = prioritize_incident(number)
    diagnose_incident(number)
    assign_incident(number)
    set_sla_due_times(number)
    notify_incident_logged(number)
    # Paging here, with this run's tasks (no process to start, no subflow to create); its
    # failure never unlogs the incident (housekeeping pages a page left unpaged).
    pages = should_page(number, incident.page, return_state=True)
    if pages.is_completed() and pages.result():
        _page_first_step(number)
    if prioritized.major:
        major_incident_procedure(number)
    deliver_notifications()
    publish_summary(number)
    return number


def _page_first_step(number: str) -> None:
    """The page's first step, its failure logged: the incident is logged all the same."""
    try:
        page_step_of(number, 0)
    except Exception:  # a task's failure is in the run graph; housekeeping pages it later
        get_run_logger().exception("%s: the first page failed; housekeeping retries it", number)
