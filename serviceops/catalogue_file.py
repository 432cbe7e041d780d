"""The service catalogue (CMDB) file: TOML an operator keeps in version control, read into a
validated serviceops.domain.cmdb.catalogue.Catalogue.

A mistake in the file must be fixable from the message alone, so CatalogueError names the file
and the field (`items[2] (billing-api).tier`) rather than showing pydantic's error list.
"""

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from serviceops.domain.cmdb import KIND_NAMES, Catalogue

__all__ = ["CatalogueError", "load_catalogue_file", "parse_catalogue"]


class CatalogueError(ValueError):
    """The catalogue file cannot be used: unreadable, not TOML, or content that fails
    validation. The message names the file and what is wrong where."""


def load_catalogue_file(path: Path) -> Catalogue:
    """The catalogue in `path`; CatalogueError when it cannot be read or is not valid."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{path}: not UTF-8 text: {exc.reason}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from None
    return parse_catalogue(document, source=str(path))


def parse_catalogue(document: dict[str, Any], *, source: str) -> Catalogue:
    """A Catalogue from an already parsed document; `source` names it in errors."""
    try:
        return Catalogue.model_validate(document)
    except ValidationError as exc:
        problems = [_problem(error, document) for error in exc.errors()]
        raise CatalogueError(f"{source}: " + "; ".join(problems)) from None


def _problem(error: ErrorDetails, document: dict[str, Any]) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "union_tag_not_found":
        message = f"kind is missing ({KIND_NAMES})"
    where = _location(error["loc"], document)
    return f"{where}: {message}" if where else message


def _location(loc: tuple[int | str, ...], document: dict[str, Any]) -> str:
    """('items', 2, 'tier') -> `items[2] (billing-api).tier`: the index as TOML's array of
    tables counts it, and the entry's name, which is how a person finds it in the file."""
    parts: list[str] = []
    node: Any = document
    for index, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
            node = node[part] if isinstance(node, list) and part < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            if isinstance(name, str) and index == 1:
                parts.append(f" ({name})")
            continue
        if (
            loc[0] == "checks"
            and index == 2
            and isinstance(node, dict)
            and part == node.get("kind")
        ):
            continue  # the discriminated union adds the kind as a step; the file has none
        parts.append(f".{part}" if parts else str(part))
        node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts)
