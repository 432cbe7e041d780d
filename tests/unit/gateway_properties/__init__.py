"""Issue 9, the intake endpoints under generated input, split by endpoint; fixture in conftest."""
