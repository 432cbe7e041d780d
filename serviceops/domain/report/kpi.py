"""KPI formulas of the operations report (ITIL SO 4.2 incident KPIs and more), over facts.

The store answers "what happened in the period" with a few SQL queries (the `*Facts` of
facts.py, plain values, no ORM objects); everything that turns those facts into a KPI lives
here, each formula a small function or a few lines of `compute_kpis` with its definition in
the docstring, so the report, the Slack summary and the read API cannot disagree about what a
number means.

Conventions every KPI follows:
- A period is half-open, [start, end): an instant exactly at `end` belongs to the next one,
  so consecutive reports never count anything twice.
- A percentage is None (shown as "—") when its population is empty: "0 of 0" is no result,
  not 0% and not 100%.
- "As of now" fields (major, reopen_count, category_corrected, escalations) are read when the
  report is made: a daily report run at 06:00 sees what happened to yesterday's incidents
  until 06:00. Counts of the period itself (logged, resolved, clocks stopped) do not move."""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field, computed_field

from serviceops.domain.incident import OPEN_STATES, BusinessCalendar, IncidentState, target_met
from serviceops.domain.priority import Priority
from serviceops.domain.report.facts import (
    EventFacts,
    IncidentFacts,
    KpiFacts,
    ProblemFacts,
    RequestFacts,
)
from serviceops.domain.report.oncall import OnCallKpis, oncall_kpis
from serviceops.domain.report.period import ReportPeriod
from serviceops.domain.request import RequestState

BAR = "█"
HOURS = range(24)


def percent(part: int, whole: int) -> float | None:
    """100 * part / whole, unrounded; None when `whole` is 0 (no population, no rate)."""
    if whole == 0:
        return None
    return 100 * part / whole


def mean_duration(durations: Iterable[timedelta]) -> timedelta | None:
    """The arithmetic mean of `durations`; None when there are none."""
    values = list(durations)
    if not values:
        return None
    return sum(values, timedelta(0)) / len(values)


def bar_chart(rows: Sequence[tuple[str, int]], width: int = 30) -> str:
    """Horizontal text bars, one line per row, scaled so the largest value is `width` long.

    For a fenced code block (monospace: renders in the Prefect UI, GitHub, Slack alike). A
    bar is value * width / largest, rounded half up; a non-zero value gets at least one block
    so that "one" never looks like "none". Counts are right-aligned after the bars.
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    if any(value < 0 for _, value in rows):
        raise ValueError("bar_chart draws counts: no negative values")
    if not rows:
        return ""
    label_width = max(len(label) for label, _ in rows)
    value_width = max(len(str(value)) for _, value in rows)
    top = max(value for _, value in rows)
    lines = []
    for label, value in rows:
        length = 0 if top == 0 else max((value * width + top // 2) // top, 1 if value else 0)
        bar = (BAR * length).ljust(width)
        lines.append(f"{label.ljust(label_width)} | {bar} {str(value).rjust(value_width)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- facts (input)


class Rate(BaseModel):
    """`count` of `of`, with the percentage rounded to one decimal (None when `of` is 0)."""

    count: int
    of: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def percent(self) -> float | None:
        value = percent(self.count, self.of)
        return None if value is None else round(value, 1)


class StageCount(BaseModel):
    stage: str
    count: int


class PriorityResolution(BaseModel):
    """Mean time to resolve of the incidents of one priority resolved in the period."""

    priority: int | None
    label: str
    resolved: int
    mean_time_to_resolve: timedelta | None


class DayCount(BaseModel):
    day: date
    logged: int
    resolved: int


class IncidentKpis(BaseModel):
    logged: int
    resolved: int
    backlog: int
    stages: list[StageCount]
    mean_time_to_resolve: timedelta | None
    by_priority: list[PriorityResolution]
    within_response: Rate
    within_resolution: Rate
    reopened: Rate
    first_line: Rate
    major: Rate
    incorrectly_assigned: Rate
    incorrectly_categorized: Rate
    by_hour: list[int] = Field(description="Incidents logged per local hour 0..23.")
    by_day: list[DayCount]

    def hour_rows(self) -> list[tuple[str, int]]:
        """(hour "00".."23", incidents logged) for bar_chart."""
        return [(f"{hour:02d}", self.by_hour[hour]) for hour in HOURS]

    def day_rows(self) -> list[tuple[str, int]]:
        """("Mon 11-23", incidents logged) for bar_chart."""
        return [(f"{d.day:%a %m-%d}", d.logged) for d in self.by_day]


class RequestKpis(BaseModel):
    due: int = Field(description="Requests due in the period, rejected ones excepted.")
    on_time: Rate
    unfulfilled: int = Field(description="Of those due, not fulfilled by the period's end.")
    fulfilled: int = Field(description="Requests fulfilled in the period (due whenever).")


class EventKpis(BaseModel):
    received: int
    correlated: int
    became_incident: Rate
    incidents: int
    symptoms: int = Field(0, description="Dependents' alerts held as symptoms of an outage.")
    silences: int = Field(0, description="Silences in force at some time in the period.")
    silenced_for: timedelta = Field(
        timedelta(0), description="Their time in force within the period, added up."
    )


def silenced_time(period: ReportPeriod, windows: Iterable[tuple[datetime, datetime]]) -> timedelta:
    """How long silences were in force within the period, each counted on its own (two at
    once count twice: each silenced something of its own)."""
    total = timedelta(0)
    for start, end in windows:
        overlap = min(end, period.end) - max(start, period.start)
        if overlap > timedelta(0):
            total += overlap
    return total


class KpiReport(BaseModel):
    """The KPIs of one period: what the report, the Slack summary and the read API show."""

    period: ReportPeriod
    first_line_group: str
    incidents: IncidentKpis
    requests: RequestKpis
    events: EventKpis
    problems: ProblemFacts
    known_errors_added: int
    on_call: OnCallKpis | None = Field(None, description="Pages opened in the period.")


# --------------------------------------------------------------------------- computing


def _rate(population: Sequence[IncidentFacts], hit: Callable[[IncidentFacts], bool]) -> Rate:
    return Rate(count=sum(1 for item in population if hit(item)), of=len(population))


def stage_counts(stages: Mapping[str, int]) -> list[StageCount]:
    """Every incident state in lifecycle order (zeros included, so the table keeps its shape),
    then any state the store knows and this code does not, alphabetically."""
    known = [state.value for state in IncidentState]
    extra = sorted(set(stages) - set(known))
    return [StageCount(stage=stage, count=stages.get(stage, 0)) for stage in [*known, *extra]]


def backlog(stages: Mapping[str, int]) -> int:
    """Backlog: incidents open (new, assigned, in progress, pending) at the period's end."""
    return sum(count for stage, count in stages.items() if stage in OPEN_STATES)


def resolution_by_priority(resolved: Sequence[IncidentFacts]) -> list[PriorityResolution]:
    """Mean time to resolve per priority, P1..P5 always (a table that keeps its shape), then
    "unprioritised" only when such incidents were resolved.

    Time to resolve: resolved_at - created_at in calendar time, pending time included: what
    the user waited, not the business time the SLA clock counts. A reopened incident counts
    until its latest resolution.
    """
    rows = []
    levels: list[int | None] = [p.value for p in Priority]
    if any(item.priority is None for item in resolved):
        levels.append(None)
    for level in levels:
        group = [item for item in resolved if item.priority == level]
        rows.append(
            PriorityResolution(
                priority=level,
                label="unprioritised" if level is None else Priority(level).label,
                resolved=len(group),
                mean_time_to_resolve=_mean_time_to_resolve(group),
            )
        )
    return rows


def _mean_time_to_resolve(resolved: Iterable[IncidentFacts]) -> timedelta | None:
    return mean_duration(
        item.resolved_at - item.created_at for item in resolved if item.resolved_at is not None
    )


def hour_histogram(period: ReportPeriod, instants: Iterable[datetime]) -> list[int]:
    """How many of `instants` fall in each local hour 0..23 (the instants are already in the
    period). Local wall-clock hours: on a DST day one hour holds two hours' worth or none."""
    counts = Counter(period.local(instant).hour for instant in instants)
    return [counts.get(hour, 0) for hour in HOURS]


def compute_kpis(
    period: ReportPeriod,
    incidents: list[IncidentFacts],
    requests: list[RequestFacts],
    events: EventFacts,
    problems: ProblemFacts,
    known_errors_added: int,
    first_line_group: str,
    stages: Mapping[str, int] | None = None,
) -> KpiReport:
    """The KPIs of `period`. Definitions (populations first, then what counts):

    Incidents
    - logged: created in the period. resolved: resolved_at in the period (for a reopened
      incident, its latest resolution; one reopened and not yet resolved again is not resolved).
    - backlog and breakdown by stage: `stages` (from the store), the incidents open at some
      time in the period (logged before its end, not resolved before its start) by their state
      at its end; backlog is those in an open state.
    - mean time to resolve (overall and by priority): of the resolved, resolved_at -
      created_at in calendar time (see resolution_by_priority).
    - % within response target: of the incidents whose response clock stopped in the period,
      those that met it (target_met). % within resolution target: the same for the
      resolution clock (P5 has no resolution target, so no clock and no place in it).
    - % reopened: of the resolved, those reopened at least once.
    - % resolved at first line: of the resolved, those without any functional escalation whose
      support group is `first_line_group` (the policy's default group, where routing starts).
    - % major: of the logged, those that are major incidents.
    - % incorrectly assigned: of the logged, those with a functional escalation (handed to
      another group: the first assignment was not the one that did the work). A planned
      hand-over from first to second line counts too: ITIL's KPI does not tell them apart.
    - % incorrectly categorized: of the logged, those whose category was corrected at logging
      (an unknown top-level category moved under "other").
    - by time of day: the logged per local hour 0..23 of the report's timezone; by day: logged
      and resolved per local day.

    Requests: of the requests due in the period (rejected ones excepted: nothing was to be
    fulfilled), those fulfilled at or before their due time. Each request counts once, in the
    period it fell due in, whether fulfilled late or not yet.

    Events: of the events received in the period, those in an alert that raised an incident.
    Problems and known errors: opened / closed in the period, open at its end; known errors
    created in the period.
    """
    logged = [item for item in incidents if period.contains(item.created_at)]
    resolved = [item for item in incidents if period.contains(item.resolved_at)]
    responded = [item for item in incidents if period.contains(item.response_stopped_at)]
    restored = [item for item in incidents if period.contains(item.resolution_stopped_at)]
    stage_map = dict(stages or {})

    def responded_in_time(item: IncidentFacts) -> bool:
        return bool(
            target_met(item.response_due_at, item.response_stopped_at, item.response_remaining)
        )

    def resolved_in_time(item: IncidentFacts) -> bool:
        return bool(
            target_met(
                item.resolution_due_at, item.resolution_stopped_at, item.resolution_remaining
            )
        )

    def first_line(item: IncidentFacts) -> bool:
        return item.functional_escalations == 0 and item.support_group == first_line_group

    logged_per_day = Counter(period.local(item.created_at).date() for item in logged)
    resolved_per_day = Counter(
        period.local(item.resolved_at).date() for item in resolved if item.resolved_at
    )
    incident_kpis = IncidentKpis(
        logged=len(logged),
        resolved=len(resolved),
        backlog=backlog(stage_map),
        stages=stage_counts(stage_map),
        mean_time_to_resolve=_mean_time_to_resolve(resolved),
        by_priority=resolution_by_priority(resolved),
        within_response=_rate(responded, responded_in_time),
        within_resolution=_rate(restored, resolved_in_time),
        reopened=_rate(resolved, lambda item: item.reopen_count > 0),
        first_line=_rate(resolved, first_line),
        major=_rate(logged, lambda item: item.major),
        incorrectly_assigned=_rate(logged, lambda item: item.functional_escalations > 0),
        incorrectly_categorized=_rate(logged, lambda item: item.category_corrected),
        by_hour=hour_histogram(period, (item.created_at for item in logged)),
        by_day=[
            DayCount(day=day, logged=logged_per_day[day], resolved=resolved_per_day[day])
            for day in period.days()
        ],
    )
    return KpiReport(
        period=period,
        first_line_group=first_line_group,
        incidents=incident_kpis,
        requests=request_kpis(period, requests),
        events=EventKpis(
            received=events.received,
            correlated=events.correlated,
            became_incident=Rate(count=events.became_incident, of=events.received),
            incidents=events.incidents,
            symptoms=events.symptoms,
            silences=len(events.silence_windows),
            silenced_for=silenced_time(period, events.silence_windows),
        ),
        problems=problems,
        known_errors_added=known_errors_added,
    )


def request_kpis(period: ReportPeriod, requests: Sequence[RequestFacts]) -> RequestKpis:
    """Requests fulfilled on time (see compute_kpis), still unfulfilled, fulfilled at all."""
    due = [
        item
        for item in requests
        if period.contains(item.due_at) and item.state != RequestState.REJECTED
    ]
    on_time = [item for item in due if item.fulfilled_at and item.fulfilled_at <= item.due_at]
    unfulfilled = [item for item in due if not item.fulfilled_at or item.fulfilled_at >= period.end]
    return RequestKpis(
        due=len(due),
        on_time=Rate(count=len(on_time), of=len(due)),
        unfulfilled=len(unfulfilled),
        fulfilled=sum(1 for item in requests if period.contains(item.fulfilled_at)),
    )


def compute_report(
    facts: KpiFacts, first_line_group: str, calendar: BusinessCalendar | None = None
) -> KpiReport:
    """compute_kpis over what the store read for one period, and the on-call load (out of
    hours by `calendar`, default: the incident policy's default calendar)."""
    report = compute_kpis(
        facts.period,
        facts.incidents,
        facts.requests,
        facts.events,
        facts.problems,
        facts.known_errors_added,
        first_line_group,
        stages=facts.stages,
    )
    on_call = oncall_kpis(facts.period, facts.pages, calendar or BusinessCalendar())
    return report.model_copy(update={"on_call": on_call})
