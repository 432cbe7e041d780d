"""log-incident's choices for the CLI and the gateway: the CLI brings the form up to date
after a catalogue load, under the operator's incident policy (see serviceops.forms; Prefect
down is no error: housekeeping brings the form up to date within a minute of its return);
the gateway's /incident modal offers the same choices."""

import httpx
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy.orm import Session, sessionmaker

from blocks.incident_policy import IncidentPolicyBlock, load_policy
from blocks.saved import aload_saved
from serviceops.application.prefect_api import PrefectNotConfigured, prefect_client
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import IncidentFormChoices, IncidentPolicy, form_choices
from serviceops.forms import offer_incident_choices
from serviceops.store.cmdb import CatalogueRepository


def refresh_incident_form(catalogue: Catalogue, api_url: str) -> IncidentFormChoices | None:
    """The choices log-incident's form offers now; None when Prefect at `api_url` could not
    be reached or has no log-incident deployment."""
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            return offer_incident_choices(catalogue, load_policy())
    except httpx.HTTPError:
        return None


async def incident_choices(
    sessions: sessionmaker[Session], api_url: str | None
) -> IncidentFormChoices:
    """What log-incident offers, for the gateway's /incident modal: the CMDB's items and the
    policy's categories (the defaults when Prefect cannot be asked)."""
    with sessions.begin() as session:
        catalogue = CatalogueRepository(session).catalogue()
    try:
        async with prefect_client(api_url) as client:
            policy = (await aload_saved(IncidentPolicyBlock, client)).get_policy()
    except (httpx.HTTPError, PrefectNotConfigured):
        policy = IncidentPolicy()
    return form_choices(catalogue, policy)
