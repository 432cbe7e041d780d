"""Raw inbound bodies: read with a size limit, parse strictly, report errors by field.

Signatures are computed over the exact bytes received, so the gateway reads the raw body
itself rather than letting FastAPI parse it. Error reports follow FastAPI's 422 shape
(`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`) so clients handle one format; they
never carry the offending input back (it may be large, or hostile), only where it was.
"""

import json
from decimal import Decimal
from typing import Any

from fastapi import Request
from pydantic import ValidationError

MAX_BODY_BYTES = 1024 * 1024

Loc = list[str | int]
ErrorList = list[dict[str, Any]]


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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes, *, decimals: bool = True) -> Any:
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
    except RecursionError:
        msg = "malformed JSON: nested too deeply"
    except ValueError as exc:  # NaN/Infinity, integers with too many digits
        msg = f"malformed JSON: {str(exc)[:100]}"
    raise PayloadError([_error(["body"], msg, "json_invalid")])


def nul_errors(value: Any, loc: Loc | None = None) -> ErrorList:
    """Errors for every string (keys too) holding a NUL byte, which no text column stores
    and which some consumers treat as the end of a string."""
    loc = ["body"] if loc is None else loc
    msg = "NUL byte (\\u0000) is not allowed"
    if isinstance(value, str):
        return [_error(loc, msg, "string_nul")] if "\x00" in value else []
    errors: ErrorList = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                errors.append(_error([*loc, key], msg, "string_nul"))
            errors += nul_errors(item, [*loc, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors += nul_errors(item, [*loc, index])
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
