"""Change authority (approvals by risk, four eyes, who may give which approval), the schedule
of change's conflicts, and the maintenance windows an implementing change stands for."""

from datetime import timedelta

import pytest

from serviceops.domain.change import (
    Change,
    ChangePolicy,
    ChangeRefused,
    ConflictKind,
    RequiredApproval,
    Risk,
    StandardChange,
    approval_refusal,
    conflicts,
    maintenance_windows,
    required_approvals,
)
from serviceops.domain.cmdb import Dependencies, FreezePeriod
from serviceops.domain.event import EventIn, SilenceIndex
from serviceops.domain.provenance import FORM, Provenance
from tests.unit.change_support import END, START, T0, change, draft

POLICY = ChangePolicy()
CLI = Provenance(via="cli", ref="dana")
# web-1 and web-2 need app-1, which needs db-01; mail stands alone.
GRAPH = Dependencies(
    {"web-1": ["app-1"], "web-2": ["app-1"], "app-1": ["db-01"], "db-01": [], "mail": []}
)
OWNERS = {"db-01": "database", "app-1": "apps", "web-1": "web", "web-2": "web"}


@pytest.mark.parametrize(
    ("risk", "labels"),
    [
        ("low", ["change_manager"]),
        ("medium", ["ci_owner database", "ci_owner web", "change_manager"]),
        ("high", ["ci_owner database", "ci_owner web", "change_manager", "cab"]),
    ],
)
def test_a_normal_change_needs_what_its_risk_requires(risk: str, labels: list[str]) -> None:
    needed = required_approvals(draft(risk=risk, cis=["db-01", "web-1", "web-2"]), OWNERS, POLICY)
    assert [r.label for r in needed] == labels  # one approval per owner group, in CI order


def test_the_policy_decides_what_each_risk_requires() -> None:
    policy = ChangePolicy(approvals_by_risk={Risk.LOW: []})
    assert required_approvals(draft(risk="low"), OWNERS, policy) == []


def test_a_standard_change_needs_its_template_and_stays_within_its_risk() -> None:
    assert (
        required_approvals(draft(kind="standard", template="patch-linux", risk="low"), {}, POLICY)
        == []
    )
    with pytest.raises(ChangeRefused, match="no standard change template reboot"):
        required_approvals(draft(kind="standard", template="reboot", risk="low"), {}, POLICY)
    with pytest.raises(ChangeRefused, match="covers low risk at most, not high"):
        required_approvals(draft(kind="standard", template="patch-linux", risk="high"), {}, POLICY)
    roomy = ChangePolicy(
        standard_changes=[StandardChange(name="patch-linux", title="Patches", max_risk="high")]
    )
    assert (
        required_approvals(draft(kind="standard", template="patch-linux", risk="high"), {}, roomy)
        == []
    )


def test_an_emergency_change_needs_one_emergency_approver() -> None:
    assert [
        r.label for r in required_approvals(draft(kind="emergency", risk="high"), OWNERS, POLICY)
    ] == ["emergency"]


def refusal(
    required: RequiredApproval, approver: str, groups: tuple[str, ...] = (), **policy: object
) -> str | None:
    return approval_refusal(
        change(),
        required,
        approver,
        approver_groups=list(groups),
        policy=ChangePolicy.model_validate(policy),
        known=CLI,
    )


def test_authority_each_approval_by_whom_the_policy_or_the_directory_names() -> None:
    manager = RequiredApproval(kind="change_manager")
    owner = RequiredApproval(kind="ci_owner", group="database")
    assert refusal(manager, "change-manager") is None
    assert "may not give the change_manager approval (change-manager)" in (
        refusal(manager, "dana") or ""
    )
    assert refusal(owner, "dana", ("database",)) is None
    assert "not in database" in (refusal(owner, "dana", ("web",)) or "")
    assert refusal(RequiredApproval(kind="cab"), "cab-chair") is None
    assert refusal(RequiredApproval(kind="emergency"), "change-manager") is None  # none named
    emergency = RequiredApproval(kind="emergency")
    assert "ecab-1" in (refusal(emergency, "change-manager", emergency_approvers=["ecab-1"]) or "")


def test_four_eyes_and_verified_approvals() -> None:
    manager = RequiredApproval(kind="change_manager")
    policy = ChangePolicy(change_managers=["robin", "change-manager"], verified_approvals=True)
    four_eyes = approval_refusal(
        change(), manager, "robin", approver_groups=[], policy=policy, known=CLI
    )
    assert four_eyes is not None and "four eyes" in four_eyes
    typed = approval_refusal(
        change(), manager, "change-manager", approver_groups=[], policy=policy, known=FORM
    )
    assert typed is not None and "verified channel" in typed
    assert (
        approval_refusal(
            change(), manager, "change-manager", approver_groups=[], policy=policy, known=CLI
        )
        is None
    )


def planned(
    number: str, cis: list[str], state: str = "scheduled", hours: tuple[int, int] = (0, 2)
) -> Change:
    return change(
        number,
        state,
        cis=cis,
        planned_start=START + timedelta(hours=hours[0]),
        planned_end=START + timedelta(hours=hours[1]),
    )


def found(
    cis: list[str], others: list[Change], freezes: tuple[FreezePeriod, ...] = ()
) -> list[tuple[str, str, str]]:
    return [
        (c.kind.value, c.other, c.ci)
        for c in conflicts("CHG-000009", cis, START, END, others, freezes, GRAPH.related)
    ]


def test_a_window_collides_with_a_change_on_the_same_or_a_related_ci() -> None:
    assert found(["db-01"], [planned("CHG-000001", ["db-01"])]) == [
        ("same_ci", "CHG-000001", "db-01")
    ]
    # web-1 needs db-01 (through app-1) and the other way round: both collide
    assert found(["web-1"], [planned("CHG-000002", ["db-01"])]) == [
        ("related_ci", "CHG-000002", "web-1")
    ]
    assert found(["db-01"], [planned("CHG-000003", ["web-2"])]) == [
        ("related_ci", "CHG-000003", "db-01")
    ]
    assert found(["mail"], [planned("CHG-000001", ["db-01"])]) == []


def test_only_planned_overlapping_changes_other_than_itself_collide() -> None:
    others = [
        planned("CHG-000001", ["db-01"], hours=(2, 4)),  # starts as this one ends
        planned("CHG-000002", ["db-01"], state="closed"),
        planned("CHG-000003", ["db-01"], state="cancelled"),
        planned("CHG-000009", ["db-01"]),  # itself
    ]
    assert found(["db-01"], others) == []
    assert found(
        ["db-01"], [planned("CHG-000004", ["db-01"], state="implementing", hours=(-1, 1))]
    ) == [("same_ci", "CHG-000004", "db-01")]


def test_a_freeze_covers_its_cis_what_is_related_to_them_or_everything() -> None:
    year_end = FreezePeriod(
        name="year-end",
        starts_at=START - timedelta(days=1),
        ends_at=START + timedelta(hours=1),
        cis=["web-1"],
    )
    everything = FreezePeriod(name="launch", starts_at=START, ends_at=END)
    later = FreezePeriod(name="later", starts_at=END, ends_at=END + timedelta(days=1))
    assert found(["db-01"], [], (year_end,)) == [("freeze", "year-end", "db-01")]
    assert found(["mail"], [], (year_end, later)) == []
    assert found(["mail"], [], (everything,)) == [("freeze", "launch", "mail")]
    described = conflicts("CHG-000009", ["mail"], START, END, [], [everything], GRAPH.related)[
        0
    ].describe()
    assert described.startswith("freeze launch (") and described.endswith("covers mail")
    assert (
        conflicts("CHG-000009", ["mail"], START, END, [], [everything], GRAPH.related)[0].kind
        is ConflictKind.FREEZE
    )


def event(ci: str | None = None, service: str | None = None) -> EventIn:
    return EventIn.model_validate(
        {
            "source": "prometheus",
            "ci": ci,
            "service": service,
            "check": "Down",
            "severity": "critical",
            "summary": "down",
        }
    )


def test_an_implementing_change_holds_its_cis_and_what_needs_them() -> None:
    started = change(state="implementing", cis=["app-1"], started_at=T0)
    index = SilenceIndex(maintenance_windows(started, GRAPH))
    for held in (event(ci="app-1"), event(ci="web-2"), event(service="web-1")):
        window = index.covering(held)
        assert window is not None and window.number == "CHG-000001"
        assert window.reason == "CHG-000001 implementing: Upgrade PostgreSQL on db-01"
    assert index.covering(event(ci="db-01")) is None  # what app-1 needs is not its dependent
    assert index.covering(event(ci="mail")) is None
    assert maintenance_windows(change(state="scheduled", cis=["app-1"]), GRAPH) == []
