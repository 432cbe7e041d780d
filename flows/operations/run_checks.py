"""run-checks: the routine operational checks of the service catalogue (ITIL SO 5).

Deployed once per kind of check on the catalogue's schedule. Each round records every result
as history, shows them as a table artifact, turns changes into events processed by the same
pipeline as monitoring's, and tells Prefect it reported: the dead-man automations raise an
incident when that report stops coming.
"""

from prefect import flow, get_run_logger, unmapped
from prefect.artifacts import create_table_artifact
from prefect.events import emit_event

from flows.event.process_events import process_events
from serviceops import deployment_names as names
from serviceops.domain.cmdb import CheckKind, CheckResult
from tasks.checks import plan_checks, probe, record_check_results

CHECKS_REPORTED = "serviceops.checks.reported"


def reporter_resource(kind: CheckKind) -> str:
    return f"serviceops.checks.{kind.value}"


@flow(name=names.RUN_CHECKS)
def run_checks(kind: CheckKind | None = None) -> list[CheckResult]:
    """Probe every check of `kind` (empty: every check) in the catalogue, record, raise
    events, report.

    Args:
        kind: The kind of check to run; empty: every check.
    """
    plan = plan_checks(kind)
    futures = probe.map(
        plan.checks, policy=unmapped(plan.policy), known_hosts=unmapped(plan.known_hosts)
    )
    results = [future.result() for future in futures]
    recorded = record_check_results(results, kind)
    if results:
        create_table_artifact(
            key=f"checks-{kind.value if kind else 'all'}",
            table=[_row(result) for result in results],
            description=f"{sum(r.ok for r in results)} of {len(results)} ok",
        )
    for reported in [kind] if kind else list(CheckKind):
        emit_event(
            event=CHECKS_REPORTED,
            resource={"prefect.resource.id": reporter_resource(reported)},
            payload={"checks": len(results), "failing": sum(not r.ok for r in results)},
        )
    if recorded:
        # The round is done and reported whatever happens downstream: an alert action that
        # fails shows on the process-events subflow run, and is retried by the next one.
        processed = process_events(return_state=True)
        if processed.is_failed():
            get_run_logger().warning("process-events after the checks: %s", processed.message)
    return results


def _row(result: CheckResult) -> dict[str, object]:
    return {
        "check": result.check,
        "service": result.service,
        "target": result.target,
        "status": result.status.value,
        "summary": result.summary,
        "latency ms": result.latency_ms,
    }
