"""`python -m deployments.forms`: bring log-incident's form up to date now (service and CI
from the CMDB, category from the incident policy). `make up` runs it once serve has
registered the deployments, since serve writes the flow's own schema when it starts;
housekeeping does the same every minute."""

from tasks.incident import refresh_incident_form


def main() -> None:
    choices = refresh_incident_form.fn()
    if choices is None:
        raise SystemExit("log-incident is not deployed: start serve first")
    services, categories = len(choices.services), len(choices.categories)
    print(f"log-incident offers {services} service(s) and {categories} categories")


if __name__ == "__main__":
    main()
