"""Raw inbound bodies: read with a size limit, parse strictly, report errors by field.

Signatures are computed over the exact bytes received, so the gateway reads the raw body
itself rather than letting FastAPI parse it. Error reports follow FastAPI's 422 shape
(`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`) so clients handle one format; they
never carry the offending input back (it may be large, or hostile), only where it was.

What is accepted must also read back, on every database and through every JSON encoder, so
`load_json` refuses, naming where: text with a NUL byte or a lone surrogate (`"\\ud800"` is
valid JSON but not Unicode: no UTF-8 column stores it and no encoder writes it out again),
numbers beyond a double (`1e400` would become Infinity, which JSON has not), and nesting
deeper than MAX_DEPTH.
"""

import json
import math
import re
from decimal import Decimal
from typing import Any

from fastapi import Request
from pydantic import ValidationError

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
"""Levels of objects and arrays a body may nest, the body itself being level 1. Real payloads
use a handful (an Alertmanager delivery: 4, a generic event's `details` rarely more than 3);
hundreds were accepted before and then broke every read of the row (encoders recurse)."""

MAX_ERRORS = 50
"""Errors a 422 lists at most: a 1 MiB body of bad strings must not get a larger answer."""

Loc = list[str | int]
ErrorList = list[dict[str, Any]]
Member = tuple[Any, Loc]


_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")


class BodyTooLarge(Exception):
    """The body is over the limit, by its Content-Length or by what actually arrived."""


class PayloadError(ValueError):
    """A body that cannot be accepted; `errors` is the 422 detail list."""

    def __init__(self, errors: ErrorList) -> None:
        super().__init__(errors[0]["msg"] if errors else "invalid payload")
        self.errors = errors


def _error(loc: Loc, msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing early on a declared length over `limit` and, for chunked or
    lying senders, as soon as the streamed bytes pass it (never buffering more than that)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise BodyTooLarge
    return bytes(received)


def check_idempotency_key(key: str | None) -> None:
    """The one Idempotency-Key rule of every webhook: absent, or 1 to 200 visible ASCII
    characters, else PayloadError. Header bytes arrive read as Latin-1, so anything else would
    be stored and compared as a guess at what the sender meant; the deliveries table holds 200."""
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        msg = "Idempotency-Key must be 1 to 200 visible ASCII characters"
        raise PayloadError([_error(["header", "idempotency-key"], msg, "key")])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(body: bytes, decimals: bool) -> Any:
    """Strict JSON from UTF-8 bytes: no NaN/Infinity, numbers with a fraction as Decimal
    (money keeps its cents) or, with `decimals=False`, as float (measurements kept as JSON);
    raises PayloadError with loc ["body"]."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError([_error(["body"], "body is not valid UTF-8", "unicode_error")]) from None
    try:
        number = Decimal if decimals else float
        return json.loads(text, parse_float=number, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        msg = f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:  # far deeper than MAX_DEPTH, so deep the parser gave up: no loc
        raise PayloadError([_too_deep(["body"])]) from None
    except ValueError as exc:  # NaN/Infinity, integers with too many digits
        msg = f"malformed JSON: {str(exc)[:100]}"
    raise PayloadError([_error(["body"], msg, "json_invalid")])


def _too_deep(loc: Loc) -> dict[str, Any]:
    return _error(loc, f"nested deeper than {MAX_DEPTH} levels", "json_too_deep")


def load_json(body: bytes, *, decimals: bool = True) -> Any:
    """The document in `body` (see _parse_json for numbers), or PayloadError naming every
    part of it that could not be stored and read back (see unstorable_errors)."""
    data = _parse_json(body, decimals)
    errors = unstorable_errors(data)
    if errors:
        raise PayloadError(errors[:MAX_ERRORS])
    return data


def _text_error(text: str) -> tuple[str, str] | None:
    """(msg, type) when no text column stores `text`: a NUL byte, which some consumers also
    take for the end of the string, or a lone surrogate, which is not Unicode at all."""
    if "\x00" in text:
        return "NUL byte (\\u0000) is not allowed", "string_nul"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "lone surrogate (\\ud800-\\udfff) is not valid Unicode", "string_unicode"
    return None


def _scalar_errors(value: Any, loc: Loc) -> ErrorList:
    if isinstance(value, str):
        problem = _text_error(value)
        return [] if problem is None else [_error(loc, *problem)]
    if isinstance(value, float) and not math.isfinite(value):  # 1e400 parses as inf
        return [_error(loc, "number beyond the range of a double", "float_overflow")]
    return []


def _members(value: dict[str, Any] | list[Any], loc: Loc) -> tuple[ErrorList, list[Member]]:
    """Errors of a container's keys, and its members with their locs, in document order.

    A key that is not Unicode is named escaped (U+D800 as the text `\\ud800`): echoed as it
    is, it would make the 422 itself impossible to encode."""
    if isinstance(value, list):
        return [], [(item, [*loc, index]) for index, item in enumerate(value)]
    errors: ErrorList = []
    members: list[Member] = []
    for key, item in value.items():
        problem = _text_error(key)
        if problem is not None:
            key = key.encode("utf-8", "backslashreplace").decode("utf-8")
            errors.append(_error([*loc, key], *problem))
        members.append((item, [*loc, key]))
    return errors, members


def unstorable_errors(data: Any) -> ErrorList:
    """Errors for every part of a parsed body (loc under "body") that could not be stored and
    read back: bad text (keys too), a number beyond a double, and a container deeper than
    MAX_DEPTH, named where it starts and not looked into. Walked with a list, not recursion:
    the walk must not fail on the very depth it is there to refuse."""
    errors: ErrorList = []
    pending: list[Member] = [(data, ["body"])]
    while pending:
        value, loc = pending.pop()
        if not isinstance(value, dict | list):
            errors += _scalar_errors(value, loc)
        elif len(loc) > MAX_DEPTH:  # loc is "body" plus one part per level above this one
            errors.append(_too_deep(loc))
        else:
            key_errors, members = _members(value, loc)
            errors += key_errors
            pending += reversed(members)
    return errors


def _input_loc(data: Any, loc: tuple[str | int, ...]) -> Loc:
    """Pydantic's loc with the tags of discriminated unions removed.

    `("details", "new_laptop", "cost")` names the union member tried; the client wrote
    `details.cost`. An element is a tag when it is not in the input at that point and is not
    the last one (the last may be a missing field).
    """
    path: Loc = []
    node = data
    for position, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif position < len(loc) - 1:
            continue
        path.append(part)
    return path


def validation_errors(exc: ValidationError, data: Any) -> ErrorList:
    """FastAPI-shaped errors for a model validated from `data`, loc under "body"."""
    return [
        _error(["body", *_input_loc(data, tuple(error["loc"]))], error["msg"], error["type"])
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
