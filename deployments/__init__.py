"""Every serviceops deployment in one list: served by `make up`, deployed by the
prefect.yaml it writes (deployments/prefect_yaml.py)."""
