"""Known errors (the KEDB) and how initial diagnosis matches an incident against them."""

import re

from pydantic import BaseModel, Field

from serviceops.domain.categories import CategoryFilter, ServiceFilter, in_category

# Letters and digits of any script ("échec", "réseau"), three or more.
_WORD = re.compile(r"[^\W_]{3,}")


class KnownError(BaseModel):
    """A diagnosed fault with a workaround: symptom, root cause, workaround (ITIL SO 4.4)."""

    number: str
    title: str
    service: ServiceFilter = Field(None, description="Service (CI) it affects; None: any.")
    category: CategoryFilter = Field(None, description="Category (or prefix) it belongs to.")
    symptom: str = ""
    root_cause: str = ""
    workaround: str


def match_known_errors(
    known_errors: list[KnownError], *, service: str, category: str, text: str
) -> list[KnownError]:
    """Known errors that fit the service and category, best first.

    A known error fits when each of its service and category is unset or agrees. Ranking:
    exact service, then category depth, then how many symptom words appear in the text.
    """
    words = set(_WORD.findall(text.lower()))

    def fits(ke: KnownError) -> bool:
        if ke.service is not None and ke.service != service:
            return False
        return ke.category is None or in_category(category, ke.category)

    def rank(ke: KnownError) -> tuple[int, int, int]:
        symptom_words = set(_WORD.findall(ke.symptom.lower()))
        return (
            ke.service is not None,
            (ke.category or "").count("/") + bool(ke.category),
            len(symptom_words & words),
        )

    return sorted(filter(fits, known_errors), key=rank, reverse=True)
