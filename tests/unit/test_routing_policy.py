"""Routing rules and the incident policy an operator tunes."""

from datetime import time, timedelta

import pytest

from serviceops.domain.incident import BusinessCalendar, IncidentPolicy, Route, route
from serviceops.domain.priority import Impact, Priority, PriorityPolicy, Urgency

P1, P2, P3, P4, P5 = (Priority(n) for n in range(1, 6))

# --- Route.matches -------------------------------------------------------------------------


def test_empty_route_matches_everything() -> None:
    rule = Route(target="service-desk")
    assert rule.matches("vpn", "network/vpn", P1)
    assert rule.matches("", "other", P5)


@pytest.mark.parametrize(
    ("service", "expected"), [("vpn", True), ("VPN", False), ("vpn-eu", False), ("", False)]
)
def test_service_is_matched_exactly(service: str, expected: bool) -> None:
    assert Route(target="net", service="vpn").matches(service, "network", P3) is expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("network", True),
        ("network/vpn", True),
        ("network/vpn/client", True),
        ("networking", False),
        ("network-vpn", False),
        ("hardware/network", False),
        ("other/network", False),
        ("net", False),
    ],
)
def test_category_is_a_prefix_on_level_boundaries(category: str, expected: bool) -> None:
    assert Route(target="net", category="network").matches("vpn", category, P3) is expected


def test_deeper_category_prefix() -> None:
    rule = Route(target="vpn-team", category="network/vpn")
    assert rule.matches("x", "network/vpn", P3)
    assert rule.matches("x", "network/vpn/client", P3)
    assert not rule.matches("x", "network", P3)
    assert not rule.matches("x", "network/vpnx", P3)
    assert not rule.matches("x", "network/lan", P3)


@pytest.mark.parametrize(
    ("priority", "expected"), [(P1, True), (P2, True), (P3, False), (P4, False), (P5, False)]
)
def test_max_priority_matches_that_priority_and_more_urgent(
    priority: Priority, expected: bool
) -> None:
    assert Route(target="oncall", max_priority=P2).matches("vpn", "network", priority) is expected


def test_every_field_must_match() -> None:
    rule = Route(target="dba-oncall", service="erp", category="database", max_priority=P1)
    assert rule.matches("erp", "database/oracle", P1)
    assert not rule.matches("crm", "database/oracle", P1)
    assert not rule.matches("erp", "network", P1)
    assert not rule.matches("erp", "database/oracle", P2)


def test_blank_fields_from_a_form_match_everything() -> None:
    rule = Route.model_validate({"target": "desk", "service": "", "category": "  "})
    assert rule.service is None and rule.category is None
    assert rule.matches("vpn", "network/vpn", P4)


def test_route_category_is_normalised_like_incident_categories() -> None:
    rule = Route(target="net", category=" Network/ ")
    assert rule.category == "network"
    assert rule.matches("vpn", "network/vpn", P3)
    assert not rule.matches("vpn", "networking", P3)


def test_route_round_trips_through_json() -> None:
    rule = Route(target="#major", service="erp", category="database/oracle", max_priority=P2)
    assert Route.model_validate_json(rule.model_dump_json()) == rule


# --- route() -------------------------------------------------------------------------------

ROUTES = [
    Route(target="major-incident-team", max_priority=P1),
    Route(target="vpn-team", category="network/vpn"),
    Route(target="network-team", category="network"),
    Route(target="erp-team", service="erp"),
]


@pytest.mark.parametrize(
    ("service", "category", "priority", "expected"),
    [
        ("vpn", "network/vpn", P1, "major-incident-team"),  # first match wins
        ("vpn", "network/vpn", P2, "vpn-team"),
        ("lan", "network/lan", P3, "network-team"),
        ("lan", "network", P3, "network-team"),
        ("erp", "network/vpn", P3, "vpn-team"),  # order, not specificity, decides
        ("erp", "software/sap", P3, "erp-team"),
        ("crm", "networking", P3, "service-desk"),
        ("crm", "software", P5, "service-desk"),
    ],
)
def test_route_first_match_wins_then_default(
    service: str, category: str, priority: Priority, expected: str
) -> None:
    assert (
        route(ROUTES, "service-desk", service=service, category=category, priority=priority)
        == expected
    )


def test_route_with_no_rules_is_the_default() -> None:
    assert route([], "desk", service="vpn", category="network", priority=P1) == "desk"


def test_route_order_matters() -> None:
    reordered = [ROUTES[2], ROUTES[1]]
    assert (
        route(reordered, "desk", service="vpn", category="network/vpn", priority=P3)
        == "network-team"
    )


# --- IncidentPolicy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("network", "network"),
        ("Network/VPN", "network/vpn"),
        ("  network / vpn  ", "network/vpn"),
        ("NETWORK//vpn/", "network/vpn"),
        ("database/Oracle/RAC", "database/oracle/rac"),
        ("other", "other"),
        ("other/printer", "other/printer"),
    ],
)
def test_normalise_known_category(given: str, expected: str) -> None:
    assert IncidentPolicy().normalise_category(given) == (expected, False)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("printer", "other/printer"),
        ("Printer/Paper Jam", "other/printer/paper jam"),
        ("networking", "other/networking"),
        ("net/vpn", "other/net/vpn"),
    ],
)
def test_unknown_top_level_is_filed_under_other_and_flagged(given: str, expected: str) -> None:
    assert IncidentPolicy().normalise_category(given) == (expected, True)


@pytest.mark.parametrize("given", ["", "   ", "/", " / / "])
def test_empty_category_becomes_other_and_is_flagged(given: str) -> None:
    assert IncidentPolicy().normalise_category(given) == ("other", True)


def test_custom_categories() -> None:
    policy = IncidentPolicy(categories=["facilities", "Telephony"])
    assert policy.normalise_category("Facilities/HVAC") == ("facilities/hvac", False)
    assert policy.normalise_category("telephony") == ("telephony", False)
    assert policy.normalise_category("network") == ("other/network", True)


def test_no_category_list_accepts_everything() -> None:
    policy = IncidentPolicy(categories=[])
    assert policy.normalise_category("Anything/At All") == ("anything/at all", False)


def test_calendar_for_p1_runs_round_the_clock() -> None:
    office = BusinessCalendar(timezone="Europe/Paris", opens=time(8), closes=time(18))
    policy = IncidentPolicy(calendar=office)
    p1 = policy.calendar_for(P1)
    assert p1.always_open
    assert p1.timezone == "Europe/Paris"
    assert not office.always_open  # the policy's calendar is not modified
    assert not policy.calendar.always_open
    for priority in (P2, P3, P4, P5):
        assert policy.calendar_for(priority) == office
        assert not policy.calendar_for(priority).always_open


def test_round_the_clock_priorities_are_configurable() -> None:
    policy = IncidentPolicy(round_the_clock={P1, P2})
    assert policy.calendar_for(P2).always_open
    assert not policy.calendar_for(P3).always_open
    assert not IncidentPolicy(round_the_clock=set()).calendar_for(P1).always_open


def test_default_policy() -> None:
    policy = IncidentPolicy()
    assert policy.default_group == "service-desk"
    assert policy.reopen_window == timedelta(days=7)
    assert policy.major_update_cadence == timedelta(minutes=30)
    assert policy.group_routes == []
    assert policy.priorities.priority_for(Impact.HIGH, Urgency.HIGH) == P1


def test_policy_round_trips_through_json() -> None:
    policy = IncidentPolicy(
        priorities=PriorityPolicy(vip_reporters={"ceo"}),
        calendar=BusinessCalendar(timezone="Europe/Paris"),
        group_routes=ROUTES,
        round_the_clock={P1, P2},
        reopen_window=timedelta(days=3),
    )
    again = IncidentPolicy.model_validate_json(policy.model_dump_json())
    assert again == policy
    assert (
        route(again.group_routes, again.default_group, service="erp", category="x", priority=P4)
        == "erp-team"
    )
