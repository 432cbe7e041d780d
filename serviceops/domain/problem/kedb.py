"""The known error database (KEDB): known errors, and matching an incident's symptoms
against them (`match_known_errors` for one incident and any list, `KnownErrorIndex` built
once from a large KEDB for many incidents)."""

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from serviceops.domain.categories import CategoryFilter, ServiceFilter, in_category

# Letters and digits of any script ("échec", "réseau"), three or more.
_WORD = re.compile(r"[^\W_]{3,}")

# What raise_known_error puts in the number of the known error it returns: the store numbers
# known errors itself (KnownErrorRepository.add ignores the incoming number).
NEW_KNOWN_ERROR = "KE-NEW"


def symptom_words(text: str) -> frozenset[str]:
    """The words matching compares: lower-cased, three letters or more, each counted once."""
    return frozenset(_WORD.findall(text.lower()))


class KnownError(BaseModel):
    """A diagnosed fault with a workaround: symptom, root cause, workaround (ITIL SO 4.4).

    Its scope is a service and/or configuration items: `ci` (the CI at fault) and
    `affected_cis` (other CIs that show the symptom, e.g. every host behind a shared storage
    array). A known error without service and CIs applies everywhere.
    """

    number: str
    title: str
    service: ServiceFilter = Field(None, description="Service (CI) it affects; None: any.")
    ci: ServiceFilter = Field(None, description="The configuration item at fault, if one.")
    affected_cis: list[str] = Field(
        default_factory=list, description="Other CIs showing the symptom (incidents on them fit)."
    )
    category: CategoryFilter = Field(None, description="Category (or prefix) it belongs to.")
    symptom: str = ""
    root_cause: str = ""
    workaround: str
    problem_number: str | None = Field(None, description="The problem it was raised from.")
    created_at: datetime | None = None

    @field_validator("affected_cis")
    @classmethod
    def _clean_cis(cls, value: list[str]) -> list[str]:
        return _clean_names(value)

    @property
    def cis(self) -> frozenset[str]:
        """Every CI in its scope: `ci` and `affected_cis`."""
        return frozenset(self.affected_cis) | ({self.ci} if self.ci else frozenset())


def _clean_names(names: Iterable[str]) -> list[str]:
    """Trimmed, no blanks, no repeats, in the given order (a form sends '' for an empty row)."""
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


def _in_scope(ke: KnownError, cis: frozenset[str], service: str, ci: str | None) -> bool:
    """Service unset or equal, or the incident's CI among the known error's CIs; a known
    error naming CIs but no service applies to those CIs only."""
    if ke.service is None and not cis:
        return True
    return ke.service == service or (ci is not None and ci in cis)


def _rank(
    ke: KnownError, cis: frozenset[str], words: frozenset[str], service: str, ci: str | None
) -> tuple[bool, bool, int, int]:
    """Exact CI, then exact service, then category depth, then symptom words in common."""
    return (
        ci is not None and ci in cis,
        ke.service is not None and ke.service == service,
        (ke.category or "").count("/") + bool(ke.category),
        len(words),
    )


def match_known_errors(
    known_errors: Sequence[KnownError],
    *,
    service: str,
    category: str,
    text: str,
    ci: str | None = None,
) -> list[KnownError]:
    """Known errors that fit the incident, best first (ties keep the KEDB order).

    A known error fits when it is in scope (its service unset or the incident's, or the
    incident's CI among its `ci`/`affected_cis`) and its category is unset or a prefix of the
    incident's. Ranking: exact CI match, then exact service, then category depth, then how
    many symptom words appear in the text.

    One pass over the list, symptom words computed only for the known errors that fit: the
    simple entry point for one incident. To match many incidents against one large KEDB,
    build a `KnownErrorIndex` once.
    """
    text_words = symptom_words(text)
    ranked = []
    for ke in known_errors:
        cis = ke.cis
        if not _in_scope(ke, cis, service, ci):
            continue
        if ke.category is not None and not in_category(category, ke.category):
            continue
        common = symptom_words(ke.symptom) & text_words
        ranked.append((_rank(ke, cis, common, service, ci), ke))
    # sorted() is stable with reverse=True too: equal ranks keep the KEDB order.
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    return [ke for _, ke in ranked]


class KnownErrorIndex:
    """A KEDB prepared for matching many incidents: built once, then `match` per incident.

    Known errors are indexed by service and by CI, and their symptom words are computed up
    front, so one match looks only at the known errors in scope (those of the incident's
    service and CI, and those that apply anywhere) instead of the whole KEDB. Results are the
    same as `match_known_errors` over the list it was built from, in the same order.
    """

    def __init__(self, known_errors: Iterable[KnownError]) -> None:
        self._known_errors = list(known_errors)
        self._cis = [ke.cis for ke in self._known_errors]
        self._words = [symptom_words(ke.symptom) for ke in self._known_errors]
        self._by_service: dict[str, list[int]] = {}
        self._by_ci: dict[str, list[int]] = {}
        self._anywhere: list[int] = []
        for position, ke in enumerate(self._known_errors):
            cis = self._cis[position]
            if ke.service is None and not cis:
                self._anywhere.append(position)
                continue
            if ke.service is not None:
                self._by_service.setdefault(ke.service, []).append(position)
            for name in cis:
                self._by_ci.setdefault(name, []).append(position)

    def __len__(self) -> int:
        return len(self._known_errors)

    def match(
        self, *, service: str, category: str, text: str, ci: str | None = None
    ) -> list[KnownError]:
        """Known errors that fit the incident, best first (see `match_known_errors`)."""
        positions = set(self._anywhere)
        positions.update(self._by_service.get(service, ()))
        if ci is not None:
            positions.update(self._by_ci.get(ci, ()))
        text_words = symptom_words(text)
        ranked = []
        for position in sorted(positions):
            ke = self._known_errors[position]
            if ke.category is not None and not in_category(category, ke.category):
                continue
            common = self._words[position] & text_words
            ranked.append((_rank(ke, self._cis[position], common, service, ci), ke))
        ranked.sort(key=lambda pair: pair[0], reverse=True)
        return [ke for _, ke in ranked]
