"""POST /slack/interactions, split by topic; shared fixtures in conftest.py."""
