"""Keep log-incident's form in step with the CMDB and the incident policy: its service, CI and
category selects (serviceops.domain.incident.form) are written into the deployment's
parameter schema on the running Prefect server, so a catalogue load or a policy edit shows in
the form without a restart. `serviceops services load` calls it, `make up` once the
deployments are served (serve writes its own schema when it starts), and housekeeping every
minute (a policy edited in the UI); nothing is written when the form already offers these
choices. It uses the Prefect API the process is configured for."""

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.exceptions import ObjectNotFound

from serviceops import deployment_names as names
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import (
    IncidentFormChoices,
    IncidentPolicy,
    form_choices,
    with_choices,
)

LOG_INCIDENT = names.deployment(names.LOG_INCIDENT)


def offer_incident_choices(
    catalogue: Catalogue, policy: IncidentPolicy
) -> IncidentFormChoices | None:
    """The choices the form offers now; None when log-incident is not deployed."""
    choices = form_choices(catalogue, policy)
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(LOG_INCIDENT)
        except ObjectNotFound:
            return None
        schema = with_choices(deployment.parameter_openapi_schema, choices)
        if schema != deployment.parameter_openapi_schema:
            update = DeploymentUpdate(parameter_openapi_schema=schema)
            client.update_deployment(deployment.id, update)
    return choices
