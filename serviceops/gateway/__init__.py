"""The HTTP face of serviceops: read API now; webhooks, alerts and Slack interactions join here."""
