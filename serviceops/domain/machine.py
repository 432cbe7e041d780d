"""The lifecycle machine every record shares: incidents, problems and requests (and the change
records and pages to come) each declare a transition table; this module says what a
transition is, what refusing one says, what its audit row holds and who acts when serviceops
acts by itself.

Legal moves are data: `Lifecycle.next_state` is the only way a record's state changes, so the
flows, the CLI and the gateway cannot disagree about what is allowed.
"""

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, model_validator

from serviceops.domain.provenance import SERVICE_ACTORS, Channel, Provenance, known_as
from serviceops.domain.provenance import SYSTEM_ACTOR as SYSTEM_ACTOR

StateT = TypeVar("StateT", bound=StrEnum)
ActionT = TypeVar("ActionT", bound=StrEnum)


class AuditEntry(BaseModel):
    """One change to a record: who, when, from, to, why, which flow run did it, and how the
    actor was known (`via`, with `actor_ref` naming what vouches: serviceops.domain.provenance).
    The domain knows only its own actors, stamped `system` here; how a person was known is
    the caller's to say (the task that writes the row), so it is None until then."""

    record: str
    action: str
    actor: str
    at: datetime
    from_state: str | None
    to_state: str
    reason: str = ""
    flow_run_id: str | None = None
    via: Channel | None = None
    actor_ref: str = ""

    @model_validator(mode="after")
    def _serviceops_acts_by_itself(self) -> "AuditEntry":
        if self.via is None and self.actor in SERVICE_ACTORS:
            self.via = Channel.SYSTEM
        return self

    @property
    def known_as(self) -> str:
        return known_as(self.via, self.actor_ref)

    def known_through(self, provenance: Provenance) -> "AuditEntry":
        """This row with how its actor was known; serviceops's own rows stay `system`."""
        if self.actor in SERVICE_ACTORS:
            return self
        return self.model_copy(update={"via": provenance.via, "actor_ref": provenance.ref})


class IllegalTransition(ValueError):
    """The action is not allowed from the record's current state; nothing was changed. The
    message names what is allowed instead, so the caller can offer it."""

    def __init__(
        self, number: str, kind: str, state: str, action: str, allowed: tuple[str, ...]
    ) -> None:
        article = "an" if kind[:1] in tuple("aeiou") else "a"
        super().__init__(
            f"{number}: cannot {action} {article} {kind} that is {state}; "
            f"allowed from {state}: {', '.join(allowed) or 'nothing'}"
        )
        self.number, self.kind, self.state, self.action = number, kind, state, action
        self.allowed = allowed

    def __reduce__(self) -> tuple[type["IllegalTransition"], tuple[object, ...]]:
        """Prefect pickles a failed run's exception; keep the constructor's arguments."""
        return (type(self), (self.number, self.kind, self.state, self.action, self.allowed))


class Lifecycle(Generic[StateT, ActionT]):
    """A kind of record's transition table: which action leads from which state where."""

    def __init__(self, kind: str, table: Mapping[tuple[StateT, ActionT], StateT]) -> None:
        self.kind = kind
        self.table = dict(table)

    def allowed(self, state: StateT) -> tuple[str, ...]:
        """The actions allowed from `state`, sorted."""
        return tuple(
            sorted({str(action) for (from_state, action) in self.table if from_state == state})
        )

    def next_state(self, number: str, state: StateT, action: ActionT) -> StateT:
        """The state `action` leads to from `state`, or IllegalTransition."""
        try:
            return self.table[(state, action)]
        except KeyError:
            raise IllegalTransition(
                number, self.kind, str(state), str(action), self.allowed(state)
            ) from None


class Record(Protocol):
    """What the audit rows need of a record: its number and its state."""

    @property
    def number(self) -> str: ...

    @property
    def state(self) -> StrEnum: ...


def change_entry(
    before: Record, after: Record, action: str, actor: str, at: datetime, reason: str = ""
) -> AuditEntry:
    """The audit row of a change from `before` to `after`."""
    return AuditEntry(
        record=before.number,
        action=str(action),
        actor=actor,
        at=at,
        from_state=before.state,
        to_state=after.state,
        reason=reason,
    )


def first_entry(record: Record, action: str, actor: str, at: datetime, reason: str) -> AuditEntry:
    """The first audit row of a record: it exists now, in its first state."""
    return AuditEntry(
        record=record.number,
        action=action,
        actor=actor,
        at=at,
        from_state=None,
        to_state=record.state,
        reason=reason,
    )


def note_entry(record: Record, action: str, actor: str, at: datetime, reason: str) -> AuditEntry:
    """An audit row that changes no state (a link, a note)."""
    return change_entry(record, record, action, actor, at, reason)
