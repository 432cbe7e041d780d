"""detect-problems: trend analysis over the incident history (ITIL SO 4.4.5.1, proactive
problem management). The same service, CI or category recurring within the window, and every
major incident, get a problem; a trend that has one adds its new incidents to it."""

from prefect import flow

from serviceops import deployment_names as names
from tasks.board import publish_board
from tasks.notifications import deliver_notifications
from tasks.problem import DetectedProblems, detect_problem_trends


@flow(name=names.DETECT_PROBLEMS)
def detect_problems() -> DetectedProblems:
    """The trend rules are the problem policy block's (at least 3 incidents in 7 days)."""
    detected = detect_problem_trends()
    deliver_notifications()
    publish_board()
    return detected
