"""Every serviceops deployment in one list: served by `make up`, deployed by prefect.yaml."""
