"""Issue 9, the guards at intake on all three webhooks, split by defect; fixtures in conftest.py."""
