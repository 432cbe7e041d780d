"""Initial diagnosis against the KEDB: which known errors fit, and in which order."""

import random

import pytest

from serviceops.domain.problem import (
    KnownError,
    KnownErrorIndex,
    match_known_errors,
    symptom_words,
)


def ke(
    number: str, *, service: str | None = None, category: str | None = None, symptom: str = ""
) -> KnownError:
    return KnownError(
        number=number,
        title=f"known error {number}",
        service=service,
        category=category,
        symptom=symptom,
        workaround="restart it",
    )


def numbers(found: list[KnownError]) -> list[str]:
    return [k.number for k in found]


def match(kedb: list[KnownError], service: str, category: str, text: str = "") -> list[str]:
    return numbers(match_known_errors(kedb, service=service, category=category, text=text))


def test_empty_kedb_matches_nothing() -> None:
    assert match([], "vpn", "network/vpn", "anything") == []


def test_known_error_without_service_or_category_fits_everything() -> None:
    assert match([ke("KE-1")], "erp", "software/sap") == ["KE-1"]


@pytest.mark.parametrize(("service", "expected"), [("vpn", ["KE-1"]), ("erp", []), ("VPN", [])])
def test_service_must_agree(service: str, expected: list[str]) -> None:
    assert match([ke("KE-1", service="vpn")], service, "network") == expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("network", ["KE-1"]),
        ("network/vpn", ["KE-1"]),
        ("network/vpn/client", ["KE-1"]),
        ("networking", []),
        ("hardware", []),
        ("other/network", []),
    ],
)
def test_category_is_a_prefix_on_level_boundaries(category: str, expected: list[str]) -> None:
    assert match([ke("KE-1", category="network")], "vpn", category) == expected


def test_deeper_known_error_category_does_not_fit_a_shallower_incident() -> None:
    assert match([ke("KE-1", category="network/vpn")], "vpn", "network") == []


def test_filters_by_service_and_category_together() -> None:
    kedb = [
        ke("KE-1", service="vpn", category="network/vpn"),
        ke("KE-2", service="vpn", category="hardware"),
        ke("KE-3", service="erp", category="network/vpn"),
        ke("KE-4", category="network"),
        ke("KE-5", service="vpn"),
    ]
    assert sorted(match(kedb, "vpn", "network/vpn/client")) == ["KE-1", "KE-4", "KE-5"]


def test_exact_service_ranks_first() -> None:
    kedb = [
        ke("KE-any-deep", category="network/vpn/client", symptom="tunnel drops timeout"),
        ke("KE-svc", service="vpn"),
    ]
    # the service-specific one wins over a deeper category and more symptom words
    assert match(kedb, "vpn", "network/vpn/client", "tunnel drops timeout") == [
        "KE-svc",
        "KE-any-deep",
    ]


def test_deeper_category_ranks_before_symptom_words() -> None:
    kedb = [
        ke("KE-none", symptom="tunnel drops every ten minutes"),
        ke("KE-top", category="network", symptom="tunnel drops"),
        ke("KE-deep", category="network/vpn"),
    ]
    text = "The tunnel drops every ten minutes"
    assert match(kedb, "vpn", "network/vpn", text) == ["KE-deep", "KE-top", "KE-none"]


def test_more_symptom_words_rank_first() -> None:
    kedb = [
        ke("KE-one", symptom="printer offline"),
        ke("KE-three", symptom="VPN tunnel drops after sleep"),
        ke("KE-zero", symptom="disk full"),
        ke("KE-two", symptom="tunnel drops"),
    ]
    text = "Since this morning the VPN tunnel drops, the printer is fine"
    assert match(kedb, "vpn", "network/vpn", text) == ["KE-three", "KE-two", "KE-one", "KE-zero"]


def test_symptom_words_ignore_case_punctuation_and_short_words() -> None:
    kedb = [
        ke("KE-short", symptom="is on at to of"),  # no word of three letters or more
        ke("KE-case", symptom="TIMEOUT"),
    ]
    assert match(kedb, "x", "y", "Connection timeout! it is on, at 10:00 to the DB") == [
        "KE-case",
        "KE-short",
    ]


def test_symptom_words_are_counted_once() -> None:
    kedb = [
        ke("KE-repeat", symptom="error error error error"),
        ke("KE-two", symptom="error timeout"),
    ]
    assert match(kedb, "x", "y", "error error timeout") == ["KE-two", "KE-repeat"]


def test_symptom_words_with_accents() -> None:
    seau, reseau = ke("KE-seau", symptom="seau"), ke("KE-reseau", symptom="réseau")
    # "réseau" is one word: it must match itself, and never the unrelated "seau"
    assert match([seau, reseau], "x", "y", "Le réseau est coupé") == ["KE-reseau", "KE-seau"]
    assert match([reseau, seau], "x", "y", "Un seau d'eau") == ["KE-seau", "KE-reseau"]
    assert match([ke("KE-e", symptom="échec")], "x", "y", "ÉCHEC de connexion") == ["KE-e"]


def test_ties_keep_the_kedb_order() -> None:
    kedb = [ke("KE-b", category="network"), ke("KE-a", category="network"), ke("KE-c")]
    assert match(kedb, "vpn", "network/vpn") == ["KE-b", "KE-a", "KE-c"]


def test_blank_service_and_category_mean_any() -> None:
    known = KnownError.model_validate(
        {"number": "KE-1", "title": "t", "service": " ", "category": "", "workaround": "w"}
    )
    assert known.service is None and known.category is None
    assert match([known], "vpn", "network/vpn") == ["KE-1"]


def test_known_error_category_is_normalised() -> None:
    known = ke("KE-1", category=" Network/VPN/ ")
    assert known.category == "network/vpn"
    assert match([known], "vpn", "network/vpn/client") == ["KE-1"]


def test_input_list_is_not_modified() -> None:
    kedb = [ke("KE-1"), ke("KE-2", service="vpn"), ke("KE-3", service="erp")]
    before = list(kedb)
    match(kedb, "vpn", "network")
    assert kedb == before


# --------------------------------------------------------------------------- CIs and the index


def ci_ke(
    number: str,
    *,
    service: str | None = None,
    ci: str | None = None,
    affected: list[str] | None = None,
    category: str | None = None,
    symptom: str = "",
) -> KnownError:
    return ke(number, service=service, category=category, symptom=symptom).model_copy(
        update={"ci": ci, "affected_cis": affected or []}
    )


def match_ci(
    kedb: list[KnownError], service: str, ci: str | None, category: str, text: str = ""
) -> list[str]:
    found = match_known_errors(kedb, service=service, ci=ci, category=category, text=text)
    from_index = KnownErrorIndex(kedb).match(service=service, ci=ci, category=category, text=text)
    assert numbers(from_index) == numbers(found), "the index disagrees with the simple match"
    return numbers(found)


def test_the_incident_ci_brings_in_known_errors_of_other_services() -> None:
    kedb = [
        ci_ke("KE-san", service="storage", ci="san-1", affected=["db-01", "db-02"]),
        ci_ke("KE-other", service="storage"),
    ]
    assert match_ci(kedb, "erp", "db-02", "database") == ["KE-san"]
    assert match_ci(kedb, "erp", "san-1", "database") == ["KE-san"]
    assert match_ci(kedb, "erp", "db-03", "database") == []
    assert match_ci(kedb, "erp", None, "database") == []


def test_a_known_error_naming_cis_but_no_service_applies_to_those_cis_only() -> None:
    kedb = [ci_ke("KE-host", ci="web-07"), ci_ke("KE-any")]
    assert match_ci(kedb, "shop", "web-07", "software") == ["KE-host", "KE-any"]
    assert match_ci(kedb, "shop", "web-08", "software") == ["KE-any"]
    assert match_ci(kedb, "shop", None, "software") == ["KE-any"]


def test_a_known_error_of_the_service_fits_whatever_the_ci() -> None:
    kedb = [ci_ke("KE-svc", service="shop", ci="web-07")]
    assert match_ci(kedb, "shop", "web-08", "software") == ["KE-svc"]


def test_exact_ci_ranks_before_exact_service() -> None:
    kedb = [
        ci_ke("KE-svc", service="erp", category="database/oracle", symptom="ora-01555 snapshot"),
        ci_ke("KE-ci", service="storage", affected=["db-01"]),
    ]
    text = "ORA-01555 snapshot too old"
    assert match_ci(kedb, "erp", "db-01", "database/oracle", text) == ["KE-ci", "KE-svc"]
    # without the CI, the storage known error is out of scope
    assert match_ci(kedb, "erp", None, "database/oracle", text) == ["KE-svc"]


def test_the_category_filter_applies_to_ci_matches_too() -> None:
    kedb = [ci_ke("KE-net", affected=["db-01"], category="network")]
    assert match_ci(kedb, "erp", "db-01", "database") == []


def test_ci_is_optional_for_old_callers() -> None:
    kedb = [ci_ke("KE-host", ci="web-07"), ke("KE-svc", service="shop")]
    assert match(kedb, "shop", "software") == ["KE-svc"]


def test_blank_cis_are_dropped() -> None:
    known = KnownError.model_validate(
        {"number": "KE-1", "title": "t", "workaround": "w", "ci": " ", "affected_cis": ["", "a"]}
    )
    assert (known.ci, known.affected_cis, known.cis) == (None, ["a"], frozenset({"a"}))


def test_symptom_words() -> None:
    assert symptom_words("Le RÉSEAU est coupé, ORA-01555: is on") == {
        "réseau",
        "est",
        "coupé",
        "ora",
        "01555",
    }


# A KEDB as a service desk has it: several services, CIs, categories, overlapping symptoms.
REALISTIC_KEDB = [
    ci_ke(
        "KE-000001",
        service="vpn",
        category="network/vpn",
        symptom="VPN tunnel drops every few minutes after connecting",
    ),
    ci_ke(
        "KE-000002",
        service="vpn",
        ci="vpn-gw-2",
        category="network/vpn",
        symptom="VPN tunnel drops for Lyon office users, MTU mismatch",
    ),
    ci_ke(
        "KE-000003",
        category="network",
        symptom="network slow, packet loss during backups",
    ),
    ci_ke(
        "KE-000004",
        service="mail",
        category="software/mail",
        symptom="mail bounces with 552 mailbox quota exceeded",
    ),
    ci_ke(
        "KE-000005",
        service="mail",
        category="software/mail/outlook",
        symptom="Outlook asks for the password again and again",
    ),
    ci_ke(
        "KE-000006",
        service="storage",
        ci="san-1",
        affected=["db-01", "db-02"],
        category="database",
        symptom="database writes hang, I/O latency above 500 ms",
    ),
    ci_ke(
        "KE-000007",
        service="erp",
        category="database/oracle",
        symptom="ORA-01555 snapshot too old in the nightly batch",
    ),
    ci_ke("KE-000008", category="access", symptom="account locked after password change"),
    ci_ke(
        "KE-000009",
        service="printing",
        category="hardware/printer",
        symptom="print queue stuck, jobs pending",
    ),
    ci_ke(
        "KE-000010",
        service="erp",
        category="software/erp",
        symptom="ERP login slow on Monday mornings",
    ),
]


@pytest.mark.parametrize(
    ("service", "ci", "category", "text", "best"),
    [
        ("vpn", "vpn-gw-2", "network/vpn", "Lyon office: VPN tunnel drops", "KE-000002"),
        ("vpn", "vpn-gw-1", "network/vpn", "VPN tunnel drops after a few minutes", "KE-000001"),
        ("mail", None, "software/mail", "Mails bounce: 552 quota exceeded", "KE-000004"),
        ("mail", None, "software/mail/outlook", "Outlook keeps asking for password", "KE-000005"),
        ("erp", "db-01", "database/oracle", "Nightly batch fails, writes hang", "KE-000006"),
        ("erp", None, "database/oracle", "ORA-01555 in the nightly batch", "KE-000007"),
        ("intranet", None, "network/lan", "Network slow with packet loss", "KE-000003"),
        ("hr", None, "access/ad", "Account locked after password change", "KE-000008"),
    ],
)
def test_kedb_matching_ranks_the_right_known_error_first(
    service: str, ci: str | None, category: str, text: str, best: str
) -> None:
    found = match_ci(REALISTIC_KEDB, service, ci, category, text)
    assert found[0] == best


def test_the_index_agrees_with_the_simple_match_on_a_random_kedb() -> None:
    rng = random.Random(7)
    services = [f"svc-{i}" for i in range(6)] + [None]
    cis = [f"ci-{i}" for i in range(10)]
    categories = ["network", "network/vpn", "network/vpn/client", "software", None]
    words = [
        "tunnel",
        "drops",
        "timeout",
        "quota",
        "bounce",
        "slow",
        "locked",
        "printer",
        "disk",
        "full",
    ]
    kedb = [
        ci_ke(
            f"KE-{n:06d}",
            service=rng.choice(services),
            ci=rng.choice([*cis, None, None]),
            affected=rng.sample(cis, rng.randint(0, 2)),
            category=rng.choice(categories),
            symptom=" ".join(rng.sample(words, 3)),
        )
        for n in range(300)
    ]
    index = KnownErrorIndex(kedb)
    assert len(index) == 300
    for _ in range(200):
        query = {
            "service": rng.choice(services[:-1]),
            "ci": rng.choice([*cis, None]),
            "category": rng.choice(categories[:-1]),
            "text": " ".join(rng.sample(words, 4)),
        }
        assert numbers(index.match(**query)) == numbers(match_known_errors(kedb, **query))
