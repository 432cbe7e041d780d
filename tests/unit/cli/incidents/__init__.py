"""`serviceops incident|db|outbox ...`, split by topic; shared fixtures in conftest.py."""
