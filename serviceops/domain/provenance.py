"""How an actor was known: the difference between a verified Slack user and a name typed into
a form, which the audit trail keeps and the policies can insist on.

A name in a flow's parameters proves nothing: anyone who can open the Prefect UI can type
any name into a form. Slack vouches for the user id behind a signed press, a webhook's
signature for the source whose secret signed it, the operating system for the user running
the CLI. Each audit row says which of these established its actor (`Channel`) and by what
(`Provenance.ref`: the Slack user id, the token's source, the OS user).
"""

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

# The actors of what serviceops does by itself: categorizing, assigning, correlating alerts,
# opening problems from trends. Nobody else may act under these names.
SYSTEM_ACTOR = "serviceops"
EVENT_ACTOR = "event-management"
PROBLEM_ACTOR = "problem-management"
SERVICE_ACTORS = frozenset({SYSTEM_ACTOR, EVENT_ACTOR, PROBLEM_ACTOR})


class Channel(StrEnum):
    SLACK = "slack"  # a signed Slack press or modal by a user the directory maps
    TOKEN = "token"  # a signed webhook: ref names the source whose secret signed it
    CLI = "cli"  # the serviceops CLI: ref is the OS user who ran it
    LINK = "link"  # a link signed for one page and person, sent to their mail or phone
    FORM = "form"  # a name typed into a Prefect UI form: nothing vouches for it
    SYSTEM = "system"  # serviceops itself (a schedule, a rule)


VERIFIED_CHANNELS = frozenset(
    {Channel.SLACK, Channel.TOKEN, Channel.CLI, Channel.LINK, Channel.SYSTEM}
)


class Provenance(BaseModel, frozen=True):
    """The channel an actor was established through, and what on it vouches for them."""

    via: Channel
    ref: str = Field("", max_length=200)

    @property
    def verified(self) -> bool:
        return self.via in VERIFIED_CHANNELS

    def describe(self) -> str:
        """How a person reads it: 'Slack user U0123', 'a name typed into a UI form'."""
        match self.via:
            case Channel.SLACK:
                return f"Slack user {self.ref}"
            case Channel.TOKEN:
                return f"the gateway token of {self.ref}"
            case Channel.CLI:
                return f"the CLI as OS user {self.ref}"
            case Channel.LINK:
                return f"the acknowledge link of {self.ref}"
            case Channel.FORM:
                return "a name typed into a UI form"
        return "serviceops itself"


def known_as(via: Channel | None, ref: str) -> str:
    """An audit row's channel in a cell: 'slack U0123', 'cli alice', 'form'; '-' on rows
    written before serviceops kept it."""
    if via is None:
        return "-"
    return f"{via} {ref}" if ref else str(via)


FORM = Provenance(via=Channel.FORM)
SYSTEM = Provenance(via=Channel.SYSTEM)


class UnverifiedActor(ValueError):
    """The policy wants this step done through a verified channel and its actor came as a
    name typed into a form; nothing was changed. The message says how to do it instead."""

    def __init__(self, number: str, action: str, actor: str) -> None:
        super().__init__(
            f"{number}: {action} by {actor} was refused: the policy takes it only from a "
            "verified channel (Slack, the CLI, a signed gateway request) and this name was "
            "typed into a UI form; nothing changed"
        )
        self.number, self.action, self.actor = number, action, actor

    def __reduce__(self) -> tuple[type["UnverifiedActor"], tuple[str, str, str]]:
        """Prefect pickles a failed run's exception; keep the constructor's arguments."""
        return (type(self), (self.number, self.action, self.actor))


def _a_person(name: str) -> str:
    if name in SERVICE_ACTORS:
        raise ValueError(f"{name!r} is serviceops's own name; name the person who acts")
    return name


PersonName = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$"),
    AfterValidator(_a_person),
]
"""A person's name as a form or a command gives it: never one of serviceops's own actors,
whose rows count as serviceops acting by itself."""
