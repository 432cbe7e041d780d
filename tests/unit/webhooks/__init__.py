"""POST /webhooks/requests, split by topic; shared fixtures in conftest.py."""
