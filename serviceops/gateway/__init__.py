"""The HTTP face of serviceops (FastAPI): the read API, the webhooks that record events and
start requests, and Slack's interactions, which start and resume flow runs."""
