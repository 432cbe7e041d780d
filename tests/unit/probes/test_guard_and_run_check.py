"""The SSRF guard `vet` that every network probe goes through (address classes, the policy,
catalogue names, every resolved address), and run_check's promises: it never raises and
the probes need no Prefect.
"""

import json
from pathlib import Path
from typing import Any

import pytest

import serviceops.probes as probes
from serviceops.domain.cmdb import DiskCheck, NetworkPolicy
from serviceops.probes import TargetRefused, run_check, vet
from tests.unit.probes.support import CRITICAL, KNOWN, LOOPBACK, Spy, fake_dns, now


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:169.254.169.254", "link-local (cloud metadata)"),
        ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)"),  # NAT64 spelling
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
    ],
)
def test_vet_refuses_address_classes_by_default(address: str, reason: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        vet(address, 80, NetworkPolicy(), frozenset({address}))
    assert str(refused.value) == f"{address} is {reason}"


def test_vet_allows_what_the_policy_allows() -> None:
    everything = NetworkPolicy(allow_loopback=True, allow_link_local=True, allow_private=True)
    assert vet("169.254.169.254", 80, everything, frozenset({"169.254.169.254"})) == [
        "169.254.169.254"
    ]
    assert vet("[fe80::1]", 80, everything, frozenset({"fe80::1"})) == ["fe80::1"]
    assert vet("100.100.100.200", 80, everything, frozenset({"100.100.100.200"})) == [
        "100.100.100.200"
    ]
    assert vet("[::ffff:127.0.0.1]", 80, everything, frozenset({"::ffff:127.0.0.1"})) == [
        "127.0.0.1"
    ]
    assert vet("10.1.2.3", 80, NetworkPolicy(), frozenset({"10.1.2.3"})) == ["10.1.2.3"]
    with pytest.raises(TargetRefused, match="a private address"):
        vet("10.1.2.3", 80, NetworkPolicy(allow_private=False), frozenset({"10.1.2.3"}))
    with pytest.raises(TargetRefused, match="a private address"):
        vet("100.64.0.1", 80, NetworkPolicy(allow_private=False), frozenset({"100.64.0.1"}))
    with pytest.raises(TargetRefused, match="a private address"):
        vet(
            "::ffff:192.168.1.1",
            80,
            NetworkPolicy(allow_private=False),
            frozenset({"::ffff:192.168.1.1"}),
        )
    assert vet("8.8.8.8", 53, NetworkPolicy(allow_private=False), frozenset({"8.8.8.8"})) == [
        "8.8.8.8"
    ]
    # unspecified, multicast and reserved stay refused whatever the policy
    for address in ("0.0.0.0", "224.0.0.1", "240.0.0.1"):
        with pytest.raises(TargetRefused):
            vet(address, 80, everything, frozenset({address}))


def test_vet_refuses_a_name_when_any_of_its_addresses_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(
        monkeypatch,
        {
            "mixed.example": ["93.184.216.34", "169.254.169.254"],
            "public.example": ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"],
        },
    )
    known = frozenset({"mixed.example", "Public.Example"})
    with pytest.raises(TargetRefused) as refused:
        vet("mixed.example", 443, NetworkPolicy(), known)
    assert str(refused.value) == "mixed.example (169.254.169.254) is link-local (cloud metadata)"
    assert vet("PUBLIC.example.", 443, NetworkPolicy(), known) == [
        "93.184.216.34",
        "2606:2800:220:1::1",
    ]


def test_vet_host_must_be_in_the_catalogue_or_allow_list(spy: Spy) -> None:
    policy = NetworkPolicy(allow_hosts=["Extra.Example"])
    with pytest.raises(TargetRefused, match="not a catalogue host nor in the allow list"):
        vet("elsewhere.example", 80, policy, frozenset({"catalogue.example"}))
    assert spy.lookups == []
    with pytest.raises(OSError):  # allowed, so it is resolved (and .invalid never resolves)
        vet("nothing.invalid", 80, policy, frozenset({"nothing.invalid"}))
    assert spy.lookups == ["nothing.invalid"]


def test_run_check_never_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("disk probe exploded\nsecond line")

    monkeypatch.setattr(probes, "probe_disk", broken)
    result = run_check(DiskCheck(name="d", service="x", path=str(tmp_path)), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "probe error: RuntimeError: disk probe exploded"
    assert json.loads(result.model_dump_json())["status"] == "critical"


def test_no_prefect_in_the_probes() -> None:
    """The probes and the rules run anywhere (a worker, the CLI, a test) without Prefect."""
    root = Path(probes.__file__).parent
    sources = [*root.glob("*.py"), root.parent / "domain" / "cmdb" / "checks.py"]
    assert len(sources) >= 8
    for source in sources:
        assert "prefect" not in source.read_text().lower(), source
