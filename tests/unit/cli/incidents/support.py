"""Helpers shared by the incident CLI tests: the CLI pointed at a database, and the
`incident open` arguments."""

import pytest

from serviceops.settings import get_settings


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", url)
    get_settings.cache_clear()


OPEN = [
    "incident",
    "open",
    "--title",
    "VPN is down",
    "--service",
    "vpn",
    "--category",
    "network/vpn",
    "--impact",
    "high",
    "--urgency",
    "medium",
    "--reporter",
    "bob",
]
