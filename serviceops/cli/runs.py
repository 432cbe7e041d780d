"""The CLI's only contact with Prefect: start a deployment's flow run and wait for its end.

Changes of state go through the deployed flows, never straight to the database, so a change
made from a terminal shows in the Prefect UI, is retried and audited like any other. Prefect is
imported inside the functions: `serviceops incident show` should not pay its import time.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from serviceops import deployment_names as names
from serviceops.domain.cmdb import CheckKind
from serviceops.domain.incident import (
    IncidentCommand,
    IncidentDraft,
)
from serviceops.settings import get_settings

# What Prefect puts before the exception in a failed run's state message; the rest (e.g.
# "IllegalTransition: INC-000001: cannot close ...") is what the operator needs to read.
_FAILED_PREFIX = "Flow run encountered an exception: "


class PrefectUnavailable(RuntimeError):
    """The run could not be started: no API configured or reachable, or no such deployment."""


@dataclass(frozen=True)
class RunOutcome:
    """How a flow run ended (or stood when the wait ran out)."""

    flow_run_id: str
    state_type: str  # COMPLETED, FAILED, CRASHED, CANCELLED ... or SCHEDULED/RUNNING on timeout
    state_name: str
    message: str
    final: bool

    @property
    def completed(self) -> bool:
        return self.state_type == "COMPLETED"


@dataclass(frozen=True)
class FlowCall:
    """Which deployment to run and with what parameters (JSON-ready, as the server wants)."""

    flow: str
    parameters: dict[str, Any]
    name: str | None = None  # the deployment's, when it is not named after its flow
    tags: tuple[str, ...] = ()  # added to the deployment's (a ticket, see vouched)

    @property
    def deployment(self) -> str:
        return names.deployment(self.flow, self.name)


def log_incident_call(draft: IncidentDraft) -> FlowCall:
    return FlowCall(names.LOG_INCIDENT, {"incident": as_parameter(draft)})


def command_call(command: IncidentCommand) -> FlowCall:
    return FlowCall(command.flow_name, {"command": as_parameter(command)})


def checks_call(kind: CheckKind) -> FlowCall:
    """The scheduled deployment of that kind of check, run now (same code, same records)."""
    return FlowCall(names.RUN_CHECKS, {"kind": kind.value}, name=names.check_deployment(kind.value))


def as_parameter(model: BaseModel) -> dict[str, Any]:
    """Plain JSON values: the server validates them against the flow's parameter schema."""
    return model.model_dump(mode="json")


def api_url() -> str:
    """PREFECT_API_URL, else the server `make up` starts (SERVICEOPS_PREFECT_HOST/PORT).

    Without a configured API URL Prefect would start a throw-away local server that knows no
    deployment and no run, so the CLI never leaves the URL unset.
    """
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or get_settings().prefect_api_url


def run_and_wait(call: FlowCall, timeout: float, poll_interval: float = 1.0) -> RunOutcome:
    """Create the run, wait up to `timeout` seconds for a final state, say how it stands.

    Raises PrefectUnavailable when nothing could be started. The API is `api_url()`.
    """
    import httpx
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = api_url()
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            flow_run = run_deployment(
                name=call.deployment,
                parameters=call.parameters,
                timeout=timeout,
                poll_interval=poll_interval,
                as_subflow=False,
                tags=list(call.tags) or None,
            )
    except ObjectNotFound:
        raise PrefectUnavailable(
            f"deployment {call.deployment} not found at {url}: are the deployments served "
            "(make up)?"
        ) from None
    except PrefectHTTPStatusError as exc:
        raise PrefectUnavailable(
            f"Prefect API refused the run of {call.deployment}: {_detail(exc.response)}"
        ) from None
    except httpx.HTTPError as exc:
        raise PrefectUnavailable(f"cannot reach the Prefect API at {url}: {exc}") from None
    state = flow_run.state
    return RunOutcome(
        flow_run_id=str(flow_run.id),
        state_type=state.type.value if state else "UNKNOWN",
        state_name=state.name if state else "unknown",
        message=(state.message or "").removeprefix(_FAILED_PREFIX) if state else "",
        final=bool(state and state.is_final()),
    )


def _detail(response: Any) -> str:
    """The server's own explanation (e.g. the parameter that failed its schema), else status."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail or f"HTTP {response.status_code}")
