"""The names of the flows and deployments that serviceops starts or looks up by name.

The flows are named from here, and so are the runs the CLI, the gateway and the stack start
or watch, without importing Prefect or the flows (an import of Prefect costs the CLI a second).
A deployment is named after its flow, except one flow deployed several times: the routine
checks, once per kind (`run-checks/http-checks`), and the ops report, once per period
(`ops-report/daily-report`).
"""

LOG_INCIDENT = "log-incident"
MAJOR_INCIDENT = "major-incident-procedure"
FULFIL_REQUEST = "fulfil-request"
REVIEW_ACCESS = "review-access"
PROCESS_EVENTS = "process-events"
RECORD_MISSED_CHECK = "record-missed-check"
RUN_CHECKS = "run-checks"
HOUSEKEEPING = "housekeeping"
OPS_REPORT = "ops-report"
LOG_PROBLEM = "log-problem"
DETECT_PROBLEMS = "detect-problems"
SET_ONCALL_OVERRIDE = "set-oncall-override"
PAGE_ON_CALL = "page-on-call"
ACKNOWLEDGE_PAGE = "acknowledge-page"
ADD_SILENCE = "add-silence"
EXTEND_SILENCE = "extend-silence"
LIFT_SILENCE = "lift-silence"


def deployment(flow: str, name: str | None = None) -> str:
    """`flow/deployment`, the name Prefect's API and `prefect deployment run` take."""
    return f"{flow}/{name or flow}"


def check_deployment(kind: str) -> str:
    """The deployment of one kind of routine check (`http` -> `http-checks`)."""
    return f"{kind}-checks"


def report_deployment(kind: str) -> str:
    """The deployment of one period of the ops report (`daily` -> `daily-report`)."""
    return f"{kind}-report"


def request_item_flow(request_type: str) -> str:
    """The flow (and deployment) that offers one catalogue item as a form of its own fields
    (`new_laptop` -> `request-new-laptop`)."""
    return "request-" + request_type.replace("_", "-")
