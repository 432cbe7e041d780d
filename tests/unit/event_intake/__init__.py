"""POST /webhooks/alertmanager and /webhooks/events, split by topic; fixtures in conftest.py."""
