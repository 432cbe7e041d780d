"""Initial diagnosis against the KEDB: which known errors fit, and in which order."""

import pytest

from serviceops.domain.problem import KnownError, match_known_errors


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
