"""The CLI's way to bring log-incident's form up to date after a catalogue load, under the
operator's incident policy (see serviceops.forms). Prefect down is no error: housekeeping
brings the form up to date within a minute of its return."""

import httpx
from prefect.settings import PREFECT_API_URL, temporary_settings

from blocks.incident_policy import load_policy
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import IncidentFormChoices
from serviceops.forms import offer_incident_choices


def refresh_incident_form(catalogue: Catalogue, api_url: str) -> IncidentFormChoices | None:
    """The choices log-incident's form offers now; None when Prefect at `api_url` could not
    be reached or has no log-incident deployment."""
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            return offer_incident_choices(catalogue, load_policy())
    except httpx.HTTPError:
        return None
