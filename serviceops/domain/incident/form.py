"""log-incident's form offers what exists: the CMDB's items as the service and the CI, the
policy's categories as the category, each a select in the Prefect UI.

The choices live in the deployment's parameter schema, which the Prefect server also checks
every run's parameters against (from the UI, the CLI or the API alike), so a service the CMDB
does not know is refused with the known ones named. The schema is rewritten whenever the
catalogue is loaded and every minute (the policy may have changed in the UI), from whatever
schema the deployment has: `with_choices` is idempotent. An empty CMDB offers free text.
Drafts that monitoring raises are not people's choices and are not checked.
"""

import copy
from typing import Any

from pydantic import BaseModel

from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident.policy import IncidentPolicy
from serviceops.domain.incident.record import IncidentDraft, Source

DRAFT = IncidentDraft.__name__
MACHINE_SOURCES = frozenset({Source.MONITORING, Source.WEBHOOK})


class IncidentFormChoices(BaseModel):
    """What log-incident's form offers (an empty list: free text)."""

    services: list[str]
    cis: list[str]
    categories: list[str]


class UnknownService(ValueError):
    """A person named a service the CMDB does not have."""


def form_choices(catalogue: Catalogue, policy: IncidentPolicy) -> IncidentFormChoices:
    names = sorted(item.name for item in catalogue.items)
    return IncidentFormChoices(services=names, cis=names, categories=list(policy.categories))


def with_choices(schema: dict[str, Any], choices: IncidentFormChoices) -> dict[str, Any]:
    """log-incident's parameter schema offering these choices (and no others)."""
    schema = copy.deepcopy(schema)
    fields = schema["definitions"][DRAFT]["properties"]
    _offer(fields["service"], choices.services)
    _offer(_text_option(fields["ci"]), choices.cis)
    _offer(fields["category"], choices.categories)
    return schema


def offered(schema: dict[str, Any]) -> IncidentFormChoices:
    """The choices a parameter schema offers: what `with_choices` put there."""
    fields = schema["definitions"][DRAFT]["properties"]
    return IncidentFormChoices(
        services=fields["service"].get("enum", []),
        cis=_text_option(fields["ci"]).get("enum", []),
        categories=fields["category"].get("enum", []),
    )


def check_service(draft: IncidentDraft, known: list[str]) -> None:
    """Refuse a person's draft naming a service the CMDB does not have, naming the known ones.
    The form refuses it first; this holds for a run whose form was not up to date."""
    if not known or draft.source in MACHINE_SOURCES or draft.service in known:
        return
    raise UnknownService(
        f"unknown service {draft.service!r}: the service catalogue has {', '.join(known)}"
    )


def _text_option(field: dict[str, Any]) -> dict[str, Any]:
    """The text branch of an optional field (`str | None` is anyOf string, null)."""
    return next(option for option in field["anyOf"] if option.get("type") == "string")


def _offer(field: dict[str, Any], choices: list[str]) -> None:
    if choices:
        field["enum"] = choices
    else:
        field.pop("enum", None)
