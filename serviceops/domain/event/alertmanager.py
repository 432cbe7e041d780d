"""Prometheus Alertmanager's webhook payload (version 4) and how its alerts become events.

The model takes the payload exactly as Alertmanager sends it, extra fields included (newer
Alertmanagers add some). Each alert becomes one event: its `alertname` is the check, its
`service` (else `job`) label the service, its `ci` (else `instance`) label the CI, and
Alertmanager's own fingerprint (a hash of the labels) the dedup key, so a group re-sent every
`repeat_interval` deduplicates onto the same alert.

Its times are refused unless the store can hold them (event.Instant), except the one way
Alertmanager says "not ended yet": Go's zero time as `endsAt`, which is taken as no end.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from serviceops.domain.event.record import EventIn, EventStatus, Instant, Severity

SOURCE = "alertmanager"
GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # how Go writes a time.Time that was never set
_SEVERITIES = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "high": Severity.CRITICAL,
    "error": Severity.ERROR,
    "major": Severity.ERROR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "minor": Severity.WARNING,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "low": Severity.INFO,
    "none": Severity.INFO,
}


def _unset_if_zero(value: Any) -> Any:
    return None if value == GO_ZERO_TIME else value


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: EventStatus
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: Instant
    endsAt: Annotated[Instant | None, BeforeValidator(_unset_if_zero)] = None
    generatorURL: str = ""
    fingerprint: str | None = Field(None, max_length=150)


class AlertmanagerPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: Literal["4"]
    groupKey: str = ""
    truncatedAlerts: int = 0
    status: EventStatus
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=1000)


def to_events(payload: AlertmanagerPayload) -> list[EventIn]:
    """One event per alert; raises ValueError naming the alert when one cannot be mapped
    (no alertname, or no label naming a service or a CI)."""
    return [_event(payload, index, alert) for index, alert in enumerate(payload.alerts)]


def _event(payload: AlertmanagerPayload, index: int, alert: AlertmanagerAlert) -> EventIn:
    labels = alert.labels
    check = labels.get("alertname")
    service = labels.get("service") or labels.get("job")
    ci = labels.get("ci") or labels.get("instance")
    if not check:
        raise ValueError(f"alerts[{index}].labels: no alertname")
    if not service and not ci:
        raise ValueError(f"alerts[{index}].labels: none of service, job, ci, instance")
    annotations = alert.annotations
    summary = annotations.get("summary") or annotations.get("description") or check
    resolved = alert.status is EventStatus.RESOLVED
    details: dict[str, Any] = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": alert.startsAt.isoformat(),
        "endsAt": None if alert.endsAt is None else alert.endsAt.isoformat(),
        "generatorURL": alert.generatorURL,
        "receiver": payload.receiver,
        "groupKey": payload.groupKey,
    }
    try:
        return EventIn(
            source=SOURCE,
            service=service[:100] if service else None,
            ci=ci[:100] if ci else None,
            check=check[:200],
            severity=_SEVERITIES.get(labels.get("severity", "").lower(), Severity.WARNING),
            summary=" ".join(summary.split())[:500] or check[:500],
            details=details,
            dedup_key=None if alert.fingerprint is None else f"{SOURCE}:{alert.fingerprint}",
            status=alert.status,
            occurred_at=alert.endsAt if resolved and alert.endsAt else alert.startsAt,
        )
    except ValidationError as exc:  # a value an event may not hold: named, not a stack trace
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"]) or "alert"
        raise ValueError(f"alerts[{index}]: {field}: {error['msg']}") from None
