"""log-incident's form offers the CMDB's items and the policy's categories: the choices as
the parameter schema carries them (and as Prefect's check of run parameters applies them,
here with jsonschema, the validator the server uses), free text on an empty CMDB, and a
person's draft naming an unknown service refused with the known ones named."""

from typing import Any

import jsonschema
import pytest
from prefect.utilities.callables import parameter_schema

from flows.incident.log_incident import log_incident
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import (
    IncidentDraft,
    IncidentFormChoices,
    IncidentPolicy,
    Source,
    UnknownService,
    check_service,
    form_choices,
    offered,
    with_choices,
)

CATALOGUE = Catalogue.model_validate(
    {
        "items": [
            {"name": "shop", "owner_group": "web", "tier": 1, "depends_on": ["orders-db"]},
            {"name": "orders-db", "type": "database", "owner_group": "dba", "tier": 1},
        ]
    }
)
POLICY = IncidentPolicy(categories=["software", "software/web", "network"])
DRAFT = {
    "title": "Checkout returns 502",
    "service": "shop",
    "category": "software/web",
    "impact": "high",
    "urgency": "medium",
    "reporter": "dave",
}


def _schema() -> dict[str, Any]:
    return parameter_schema(log_incident.fn).model_dump()


def _valid(schema: dict[str, Any], **changes: Any) -> bool:
    try:
        jsonschema.validate({"incident": DRAFT | changes}, schema)
    except jsonschema.ValidationError:
        return False
    return True


def test_the_choices_are_the_cmdb_items_and_the_policy_categories() -> None:
    choices = form_choices(CATALOGUE, POLICY)
    assert choices == IncidentFormChoices(
        services=["orders-db", "shop"],
        cis=["orders-db", "shop"],
        categories=["software", "software/web", "network"],
    )


def test_the_schema_offers_them_as_selects_and_refuses_others() -> None:
    schema = with_choices(_schema(), form_choices(CATALOGUE, POLICY))
    assert offered(schema) == form_choices(CATALOGUE, POLICY)
    assert _valid(schema)
    assert _valid(schema, ci="orders-db") and _valid(schema, ci=None)
    assert not _valid(schema, service="payroll")
    assert not _valid(schema, ci="mx-1")
    assert not _valid(schema, category="facilities")


def test_writing_the_choices_again_changes_nothing_and_new_ones_replace_old() -> None:
    first = with_choices(_schema(), form_choices(CATALOGUE, POLICY))
    assert with_choices(first, form_choices(CATALOGUE, POLICY)) == first
    fewer = Catalogue.model_validate({"items": [CATALOGUE.items[1].model_dump()]})
    second = with_choices(first, form_choices(fewer, POLICY))
    assert offered(second).services == ["orders-db"]


def test_an_empty_cmdb_leaves_service_and_ci_free_text() -> None:
    schema = with_choices(_schema(), form_choices(Catalogue(), POLICY))
    assert offered(schema).services == [] and offered(schema).cis == []
    assert _valid(schema, service="anything")
    assert with_choices(schema, form_choices(Catalogue(), POLICY)) == schema


def test_a_person_naming_an_unknown_service_is_refused_with_the_known_ones() -> None:
    draft = IncidentDraft.model_validate(DRAFT | {"service": "payroll"})
    with pytest.raises(UnknownService, match="'payroll': the service catalogue has orders-db"):
        check_service(draft, ["orders-db", "shop"])
    check_service(IncidentDraft.model_validate(DRAFT), ["orders-db", "shop"])
    check_service(draft, [])  # no CMDB loaded: nothing to check against


@pytest.mark.parametrize("source", [Source.MONITORING, Source.WEBHOOK])
def test_monitoring_may_name_what_the_cmdb_lacks(source: Source) -> None:
    draft = IncidentDraft.model_validate(DRAFT | {"service": "payroll", "source": source})
    check_service(draft, ["shop"])


def test_the_default_categories_keep_their_top_levels_known() -> None:
    policy = IncidentPolicy()
    assert policy.normalise_category("Software/ERP") == ("software/erp", False)
    assert policy.normalise_category("facilities/door") == ("other/facilities/door", True)
    assert "software/email" in policy.categories and "hardware/printer" in policy.categories
