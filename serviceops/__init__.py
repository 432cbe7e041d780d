"""serviceops: ITIL Service Operation as code, on Prefect."""
