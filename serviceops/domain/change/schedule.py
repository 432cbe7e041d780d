"""The schedule of change: which planned windows collide.

A normal change may not be scheduled over another change on the same CI or on a CI related to
it through the CMDB (one needs the other: a database's change while the web servers that need
it are patched), nor inside a freeze period the catalogue declares (domain.cmdb.freezes). An
emergency change goes ahead anyway, with the conflicts on its record for the review.
`related` is the CMDB's answer to "does one of these need the other"
(domain.cmdb.Dependencies.related), so this module knows nothing of the graph.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from serviceops.domain.change.record import PLANNED_STATES, Change
from serviceops.domain.cmdb.freezes import FreezePeriod


class ConflictKind(StrEnum):
    SAME_CI = "same_ci"
    RELATED_CI = "related_ci"
    FREEZE = "freeze"


class Conflict(BaseModel, frozen=True):
    """One collision, named so a person can act on it."""

    kind: ConflictKind
    other: str = Field(description="The other change's number, or the freeze's name.")
    ci: str = Field(description="This change's CI that collides.")
    other_ci: str | None = Field(None, description="The other change's CI, when related.")
    starts_at: datetime
    ends_at: datetime

    def describe(self) -> str:
        window = f"{self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M %Z}"
        if self.kind is ConflictKind.FREEZE:
            return f"freeze {self.other} ({window}) covers {self.ci}"
        if self.kind is ConflictKind.SAME_CI:
            return f"{self.other} changes {self.ci} too ({window})"
        return f"{self.other} changes {self.other_ci}, related to {self.ci} ({window})"


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    """Half-open windows: one ending as the other starts does not collide."""
    return start < other_end and other_start < end


Related = Callable[[str, str], bool]


def conflicts(
    number: str,
    cis: list[str],
    start: datetime,
    end: datetime,
    others: Iterable[Change],
    freezes: Iterable[FreezePeriod],
    related: Related,
) -> list[Conflict]:
    """Every collision of the window `start`-`end` on `cis` (change `number`'s, not counted
    against itself): planned changes first by number, then freezes."""
    found: list[Conflict] = []
    for other in sorted(others, key=lambda c: int(c.number.removeprefix("CHG-"))):
        if other.number == number or other.state not in PLANNED_STATES:
            continue
        if not overlaps(start, end, other.planned_start, other.planned_end):
            continue
        for ci in cis:
            hit = _collision(ci, other.cis, related)
            if hit is not None:
                kind = ConflictKind.SAME_CI if hit == ci else ConflictKind.RELATED_CI
                found.append(
                    Conflict(
                        kind=kind,
                        other=other.number,
                        ci=ci,
                        other_ci=None if hit == ci else hit,
                        starts_at=other.planned_start,
                        ends_at=other.planned_end,
                    )
                )
                break
    for freeze in freezes:
        if not overlaps(start, end, freeze.starts_at, freeze.ends_at):
            continue
        covered = next(
            (ci for ci in cis if not freeze.cis or _collision(ci, freeze.cis, related)), None
        )
        if covered is not None:
            found.append(
                Conflict(
                    kind=ConflictKind.FREEZE,
                    other=freeze.name,
                    ci=covered,
                    starts_at=freeze.starts_at,
                    ends_at=freeze.ends_at,
                )
            )
    return found


def _collision(ci: str, theirs: list[str], related: Related) -> str | None:
    """The first of `theirs` that is `ci` itself, else one related to it."""
    if ci in theirs:
        return ci
    return next((other for other in theirs if related(ci, other)), None)
