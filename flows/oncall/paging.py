"""page-on-call and acknowledge-page: an incident's walk up its group's escalation ladder.

A page is a chain of short runs, one per step (the first is log-incident's own run): each
pages whom its step names and schedules the next at the time its level waits for an
acknowledgement. Between steps nothing runs and
no process is held; the next run is in Prefect's database, so a restart of serve, a worker
or the server only delays it. Each run first checks the page (acknowledged, or the incident
resolved: it ends there) and the step (paged already: nobody is paged again)."""

from prefect import flow

from serviceops import deployment_names as names
from serviceops.domain.oncall import AcknowledgePage, PageState
from tasks.board import publish_board
from tasks.notifications import deliver_notifications
from tasks.paging import (
    acknowledge_page,
    escalate_page,
    open_page,
    page_current_step,
    schedule_step,
)


@flow(name=names.PAGE_ON_CALL)
def page_on_call(incident: str, step: int = 0) -> str:
    """Page whoever is on call for an incident's support group, and escalate on time until
    someone acknowledges. Its first step runs inside log-incident's own run (priorities 1
    and 2 at any hour, others in business hours); each later step is a run of its own,
    scheduled by the one before.

    Args:
        incident: The incident to page for, e.g. INC-000123.
        step: The ladder's step this run pages (0: the first; later steps are scheduled).
    """
    return page_step_of(incident, step)


def page_step_of(incident: str, step: int) -> str:
    """One step of an incident's ladder, as tasks of the run that calls it: page-on-call's,
    or log-incident's for the first step, where a subflow would cost its creation (up to
    2 s on make up's SQLite server) before anyone is paged."""
    page = open_page(incident)
    if page is None:
        return "no on-call schedule"
    if step > 0:
        page = escalate_page(page.number, step)
    due = page_current_step(page.number) if page.state is PageState.PAGING else None
    # First: the page wakes someone; the next step is minutes away. A channel failing is on
    # the delivery's run and the rows wait in the outbox: the ladder goes on regardless.
    deliver_notifications(return_state=True)
    if due is not None:
        schedule_step(incident, page.number, page.step + 1, due)
    return f"{page.number} {page.state} at step {page.step + 1}"


@flow(name=names.ACKNOWLEDGE_PAGE)
def acknowledge_page_flow(command: AcknowledgePage) -> str:
    """Answer a page: the ladder stops, and the incident is acknowledged by whoever answers
    (someone the page paged, or a member of the group; anyone else is refused).

    Args:
        command: The page and who answers it.
    """
    page = acknowledge_page(command)
    deliver_notifications()
    publish_board()
    return page.state.value
