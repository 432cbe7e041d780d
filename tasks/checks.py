"""Routine check tasks: plan from the service catalogue, probe, record history and events.

A check's result is history (check_runs) and, when it changes, events in the same pipeline
as monitoring's (see serviceops.domain.event.check_events).
"""

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from serviceops.domain.cmdb import Check, CheckKind, CheckResult, NetworkPolicy
from serviceops.domain.event import events_for, reported_check_event
from serviceops.probes import run_check
from serviceops.store.cmdb import CatalogueRepository, CheckRunRepository
from serviceops.store.event import AlertRepository, EventRepository
from tasks.context import now, sessions


class CheckPlan(BaseModel):
    """What one round checks, and the network rules it checks under."""

    checks: list[Check]
    policy: NetworkPolicy
    known_hosts: list[str]


@task(cache_policy=NO_CACHE)
def plan_checks(kind: CheckKind | None = None) -> CheckPlan:
    with sessions().begin() as session:
        catalogue = CatalogueRepository(session).catalogue()
    checks = catalogue.all_checks() if kind is None else catalogue.checks_of(kind)
    return CheckPlan(
        checks=checks, policy=catalogue.network, known_hosts=sorted(catalogue.known_hosts())
    )


@task(cache_policy=NO_CACHE)
def probe(check: Check, policy: NetworkPolicy, known_hosts: list[str]) -> CheckResult:
    """One probe; never raises (a check that cannot run is a critical result)."""
    return run_check(check, policy, frozenset(known_hosts), now())


@task(cache_policy=NO_CACHE)
def record_check_results(results: list[CheckResult], kind: CheckKind | None) -> list[str]:
    """History for every result, events for what changed, and the dead-man condition of
    `kind` cleared if it was raised. Returns the numbers of the events recorded."""
    at = now()
    with sessions().begin() as session:
        history = CheckRunRepository(session)
        previous = history.previous_status([result.check for result in results])
        events = [e for r in results for e in events_for(r, previous.get(r.check))]
        cleared = None if kind is None else reported_check_event(kind)
        if cleared is not None and AlertRepository(session).firing(cleared.fingerprint):
            events.append(cleared)
        history.add_many(results)
        return EventRepository(session).record(events, at) if events else []
