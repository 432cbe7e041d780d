"""How check results enter event management: a failure is an event like any monitoring
alert, and a recovery resolves it, so routine checks and monitoring share one pipeline.

A failing check reports its failure on every run: the repeats deduplicate onto one alert (one
incident, counted events), and if people close that alert while the check still fails, the
next run opens a new one. A recovery is reported once, when the status turns ok. A TLS
certificate's thresholds (30, 14, 7 days) are conditions of their own, so each is told once.
"""

from pydantic import BaseModel, Field

from serviceops.domain.cmdb import CheckKind, CheckResult, CheckStatus
from serviceops.domain.event.record import EventIn, EventStatus, Severity

SOURCE = "serviceops-checks"
DEADMAN_SOURCE = "serviceops-deadman"
_SEVERITY = {CheckStatus.WARNING: Severity.WARNING, CheckStatus.CRITICAL: Severity.CRITICAL}


class MissedCheck(BaseModel):
    """What a dead-man automation knows: which checks went silent, for how long."""

    kind: CheckKind = Field(title="Kind", description="The kind of checks that went silent.")
    window_s: int = Field(
        gt=0, title="Window (s)", description="They have not reported for at least this long."
    )


def events_for(result: CheckResult, previous: CheckStatus | None) -> list[EventIn]:
    """The events one result makes given the status before it: a firing event when it is
    not ok (repeats deduplicate), resolved events when it recovers."""
    if result.status is not CheckStatus.OK:
        return [
            _event(result, _dedup_key(result, result.details.get("threshold")), EventStatus.FIRING)
        ]
    if previous in (None, CheckStatus.OK):
        return []
    keys = {_dedup_key(result, None)}
    if result.kind is CheckKind.TLS:
        keys |= {_dedup_key(result, days) for days in result.details.get("warn_days", [])}
    return [_event(result, key, EventStatus.RESOLVED) for key in sorted(keys)]


def missed_check_event(kind: CheckKind, window_s: int) -> EventIn:
    """The dead-man event: a routine check has not reported within its window, which no
    check can say about itself."""
    return EventIn(
        source=DEADMAN_SOURCE,
        service="serviceops",
        check=f"dead-man:{kind.value}-checks",
        severity=Severity.CRITICAL,
        summary=f"{kind.value} checks have not reported for {window_s // 60} min",
        dedup_key=deadman_key(kind),
        details={"kind": kind.value, "window_s": window_s},
    )


def reported_check_event(kind: CheckKind) -> EventIn:
    """The dead-man condition cleared: the checks of `kind` reported again."""
    return missed_check_event(kind, 0).model_copy(
        update={"status": EventStatus.RESOLVED, "summary": f"{kind.value} checks report again"}
    )


def deadman_key(kind: CheckKind) -> str:
    return f"deadman:{kind.value}-checks"


def _dedup_key(result: CheckResult, threshold: object) -> str:
    key = f"check:{result.check}"
    return f"{key}:{threshold}d" if result.kind is CheckKind.TLS and threshold else key


def _event(result: CheckResult, key: str, status: EventStatus) -> EventIn:
    severity = _SEVERITY.get(result.status, Severity.INFO)
    summary = (
        f"{result.check}: {result.summary}"
        if status is EventStatus.FIRING
        else (f"{result.check} ok again: {result.summary}")
    )
    return EventIn(
        source=SOURCE,
        service=result.service,
        ci=result.ci,
        check=f"{result.kind.value}:{result.check}",
        severity=severity,
        summary=summary[:500],
        details={"target": result.target, "latency_ms": result.latency_ms} | result.details,
        dedup_key=key,
        status=status,
        occurred_at=result.checked_at,
    )
