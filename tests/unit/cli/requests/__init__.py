"""`serviceops request|catalogue ...`, split by topic; shared fixtures in conftest.py."""
