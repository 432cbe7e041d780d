"""Multi-level categories ('network/vpn') and the filters that match them by prefix.

Rules (routing, known errors) and incidents must spell categories the same way, so every
category passes through `clean_category`, and a blank filter field (as a UI form sends it)
means "any", like None.
"""

from typing import Annotated

from pydantic import BeforeValidator


def clean_category(category: str) -> str:
    """Lower-case, trimmed, no empty levels: ' Network/VPN/ ' -> 'network/vpn'."""
    return "/".join(part.strip().lower() for part in category.split("/") if part.strip())


def in_category(category: str, prefix: str) -> bool:
    """'network/vpn' is in 'network' and in itself, but 'networking' is not in 'network'."""
    return category == prefix or category.startswith(prefix + "/")


def _blank_is_any(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _category_or_any(value: object) -> object:
    if isinstance(value, str):
        return clean_category(value) or None
    return value


ServiceFilter = Annotated[str | None, BeforeValidator(_blank_is_any)]
CategoryFilter = Annotated[str | None, BeforeValidator(_category_or_any)]
