"""`serviceops problem|kedb ...`, split by topic; shared fixtures in conftest.py."""
