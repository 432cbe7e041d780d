"""Events from monitoring and from serviceops's own checks, and the rules event management
applies to them (ITIL SO 4.1): filtering, significance, the fingerprint that deduplicates, and
the response each significance calls for.

The rules are data (EventPolicy), so an operator tunes them in a block without a release.
"""

import hashlib
import re
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from string import Formatter
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$"


class EventStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Severity(StrEnum):
    """What the source says; significance is what serviceops makes of it."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Significance(StrEnum):
    INFORMATIONAL = "informational"
    WARNING = "warning"
    EXCEPTION = "exception"

    @property
    def rank(self) -> int:
        return _SIGNIFICANCE_ORDER.index(self)


_SIGNIFICANCE_ORDER = [Significance.INFORMATIONAL, Significance.WARNING, Significance.EXCEPTION]


class Response(StrEnum):
    """What is done about an alert, weakest first: an alert only ever climbs this ladder."""

    LOG = "log"
    NOTIFY = "notify"
    REMEDIATE = "remediate"
    INCIDENT = "incident"
    PAGE = "page"  # an incident, and its group's on-call paged whatever the hour

    @property
    def rank(self) -> int:
        return _RESPONSE_ORDER.index(self)

    @property
    def raises_incident(self) -> bool:
        return self.rank >= Response.INCIDENT.rank


_RESPONSE_ORDER = [
    Response.LOG,
    Response.NOTIFY,
    Response.REMEDIATE,
    Response.INCIDENT,
    Response.PAGE,
]

EARLIEST_INSTANT = datetime(2, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9999, 1, 1, tzinfo=UTC)


def _storable_instant(value: datetime) -> datetime:
    """A time from outside, refused unless the store can hold it: aware, with a UTC time at
    all (9999-12-31T23:59:59-23:59 has none: it overflowed on the way in), and a year inside
    datetime's range, so that a database session in any time zone reads it back and a window
    added to it stays in range."""
    if value.utcoffset() is None:
        raise ValueError("needs a time zone")
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        earliest, latest = EARLIEST_INSTANT.date(), LATEST_INSTANT.date()
        raise ValueError(f"must be from {earliest} to before {latest} (UTC)")
    return value


Instant = Annotated[datetime, AfterValidator(_storable_instant)]


class EventIn(BaseModel):
    """One event as a source sends it (`POST /webhooks/events`), and what Alertmanager's
    alerts and serviceops's checks are turned into: one format, one pipeline."""

    source: str = Field(
        min_length=1,
        max_length=50,
        pattern=NAME_PATTERN,
        title="Source",
        description="What sent it: a monitoring system, a check, a script.",
    )
    service: str | None = Field(
        None, min_length=1, max_length=100, title="Service", description="Service affected."
    )
    ci: str | None = Field(
        None, min_length=1, max_length=100, title="CI", description="Configuration item affected."
    )
    check: str = Field(
        min_length=1, max_length=200, title="Check", description="What was measured or tested."
    )
    severity: Severity = Field(
        Severity.WARNING, title="Severity", description="As the source says."
    )
    summary: str = Field(min_length=1, max_length=500, title="Summary", description="One line.")
    details: dict[str, Any] = Field(
        default_factory=dict, title="Details", description="Anything else, kept as sent."
    )
    dedup_key: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        title="Deduplication key",
        description="Events with one key are one condition; default: source + resource + check.",
    )
    status: EventStatus = Field(
        EventStatus.FIRING, title="Status", description="firing, or resolved when it cleared."
    )
    occurred_at: Instant | None = Field(
        None, title="Occurred at", description="When the source saw it (aware); default: now."
    )

    @model_validator(mode="after")
    def _names_what_it_is_about(self) -> "EventIn":
        if self.service is None and self.ci is None:
            raise ValueError("an event names a service or a ci")
        return self

    @property
    def resource(self) -> str:
        """The CI if named, else the service: what correlation groups by."""
        return self.ci or self.service or ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)


def fingerprint(event: EventIn) -> str:
    """The dedup key if the source gave one, else a hash of source, resource and check:
    the same condition reported again has the same fingerprint."""
    if event.dedup_key is not None:
        return event.dedup_key
    parts = "\x1f".join((event.source, event.resource, event.check))
    return "fp:" + hashlib.sha256(parts.encode()).hexdigest()[:40]


class Match(BaseModel):
    """Shell-style patterns over an event's fields; every given one must match."""

    source: str = Field("*", description="Pattern over the source, e.g. alertmanager.")
    service: str = Field("*", description="Pattern over the service (or the CI).")
    check: str = Field("*", description="Pattern over the check, e.g. Disk*.")
    severities: list[Severity] | None = Field(None, description="Any of these severities.")

    def matches(self, event: EventIn) -> bool:
        return (
            fnmatchcase(event.source, self.source)
            and fnmatchcase(event.service or event.ci or "", self.service)
            and fnmatchcase(event.check, self.check)
            and (self.severities is None or event.severity in self.severities)
        )


class SignificanceRule(Match):
    significance: Significance


class ResponseRule(Match):
    """The response to events of these significances (and fields); `runbook` names the runbook
    an auto-remediation runs."""

    significances: list[Significance] | None = Field(None, description="Any of these.")
    response: Response
    runbook: str | None = Field(None, description="For response remediate: which runbook.")

    def selects(self, event: EventIn, significance: Significance) -> bool:
        return (self.significances is None or significance in self.significances) and self.matches(
            event
        )


class Runbook(BaseModel):
    """An allow-listed command run as an argument list, never through a shell. Arguments may
    name `{service}`, `{ci}` and `{check}`, filled from the alert (each one argument, and only
    with a value that passes runbook_value_problem)."""

    argv: list[str] = Field(min_length=1, description="Executable and its arguments.")
    timeout_s: float = Field(60, gt=0, le=3600, description="Killed after this long.")

    def placeholders(self) -> set[str]:
        """The alert values the arguments name: only those are vetted, so a runbook that does
        not use `{check}` runs whatever text the check has."""
        return {
            field
            for arg in self.argv[1:]
            for _text, field, _spec, _conversion in Formatter().parse(arg)
            if field is not None
        }


class RunbookRefused(ValueError):
    """A runbook was not run because a value from the alert is not safe to put in its
    argument list; the message says which value and why."""


# What a value from an alert must look like to fill a runbook argument, unless the catalogue
# declares it. Alerts come from anyone who can send an event, and the commands runbooks run
# (ssh, systemctl, rsync, scripts) read an argument that starts with '-' as an option
# (`-oProxyCommand=...` runs a command) and may hand one on to a shell or a path. So: an
# alphanumeric first character (never an option), then only characters that names need ('.'
# host names, ':' host:port and check names, '@' user@host, '/' namespace/name, '_' and '-'),
# and no '..' (a path walking up). No spaces, quotes or shell syntax.
RUNBOOK_VALUE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/-]*$"
_RUNBOOK_VALUE = re.compile(RUNBOOK_VALUE_PATTERN)


def runbook_value_problem(name: str, value: str, known: Collection[str]) -> str | None:
    """Why `value` may not fill `{name}`, None when it may: a name the catalogue declares
    always may (the operator vouched for it), anything else must be a plain name."""
    if value in known:
        return None
    if not value:
        return f"{name} is empty"
    if _RUNBOOK_VALUE.fullmatch(value) is None or ".." in value:
        return (
            f"{name} {value!r} is neither a catalogue name nor a plain name "
            f"({RUNBOOK_VALUE_PATTERN}, no '..')"
        )
    return None


_DEFAULT_SIGNIFICANCE = {
    Severity.CRITICAL: Significance.EXCEPTION,
    Severity.ERROR: Significance.EXCEPTION,
    Severity.WARNING: Significance.WARNING,
    Severity.INFO: Significance.INFORMATIONAL,
}
_DEFAULT_RESPONSE = {
    Significance.EXCEPTION: Response.INCIDENT,
    Significance.WARNING: Response.NOTIFY,
    Significance.INFORMATIONAL: Response.LOG,
}


class EventPolicy(BaseModel):
    """How events become alerts and what is done about them."""

    filters: list[Match] = Field(
        default_factory=list, description="First-level filtering: matching events are dropped."
    )
    significance_rules: list[SignificanceRule] = Field(
        default_factory=list,
        description="Per source or check; first match wins, else by severity "
        "(critical/error: exception, warning: warning, info: informational).",
    )
    responses: list[ResponseRule] = Field(
        default_factory=list,
        description="First match wins, else exception: incident, warning: notify, "
        "informational: log.",
    )
    correlation_window: timedelta = Field(
        timedelta(minutes=5),
        description="Events on one service or CI within this window become one alert.",
    )
    notify_limit: int = Field(5, ge=1, le=50, description="Most Slack messages per alert.")
    auto_resolve: bool = Field(True, description="A resolved event resolves its incident.")
    after_resolution: Literal["reopen", "new"] = Field(
        "reopen",
        description="A new firing after resolution reopens the alert and its incident, or "
        "opens new ones.",
    )
    review_after: timedelta = Field(
        timedelta(hours=1), description="A resolved alert is reviewed and closed after this."
    )
    inhibit_dependents: bool = Field(
        True,
        description="A new alert on an item that needs one with an open exception alert "
        "(through the CMDB's depends_on) joins that alert as a symptom instead of raising an "
        "incident of its own.",
    )
    runbooks: dict[str, Runbook] = Field(default_factory=dict, description="By name.")
    allowed_commands: list[str] = Field(
        default_factory=list, description="Absolute paths of the executables runbooks may run."
    )
    incident_category: str = Field("other/event", description="Category of raised incidents.")
    channel: str = Field("#ops-events", description="Where alert notifications go.")

    @model_validator(mode="after")
    def _runbooks_are_allowed(self) -> "EventPolicy":
        for name, runbook in self.runbooks.items():
            if runbook.argv[0] not in self.allowed_commands:
                raise ValueError(f"runbook {name}: {runbook.argv[0]} is not an allowed command")
        for rule in self.responses:
            if rule.response is Response.REMEDIATE and rule.runbook not in self.runbooks:
                raise ValueError(f"response rule names an unknown runbook: {rule.runbook}")
        return self

    def dropped(self, event: EventIn) -> bool:
        return any(rule.matches(event) for rule in self.filters)

    def significance(self, event: EventIn) -> Significance:
        for rule in self.significance_rules:
            if rule.matches(event):
                return rule.significance
        return _DEFAULT_SIGNIFICANCE[event.severity]

    def response(self, event: EventIn, significance: Significance) -> tuple[Response, str | None]:
        for rule in self.responses:
            if rule.selects(event, significance):
                return rule.response, rule.runbook
        return _DEFAULT_RESPONSE[significance], None

    def runbook_argv(
        self, name: str, values: dict[str, str], known: Collection[str] = frozenset()
    ) -> list[str]:
        """The runbook's argument list with placeholders filled; never a shell string.
        RunbookRefused when a value it names is neither a catalogue name (`known`) nor a plain
        name: the values are the alert's, and an alert is not trusted to pick options."""
        runbook = self.runbooks[name]
        if runbook.argv[0] not in self.allowed_commands:
            raise PermissionError(f"{runbook.argv[0]} is not an allowed command")
        for field in sorted(runbook.placeholders()):
            problem = runbook_value_problem(field, values.get(field, ""), known)
            if problem is not None:
                raise RunbookRefused(f"runbook {name} refused: {problem}")
        return [runbook.argv[0], *(arg.format_map(values) for arg in runbook.argv[1:])]


def event_time(event: EventIn, received_at: datetime) -> datetime:
    return event.occurred_at or received_at
