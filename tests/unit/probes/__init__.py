"""The probes against real servers on the loopback interface, started by the tests."""
