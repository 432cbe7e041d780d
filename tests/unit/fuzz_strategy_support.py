"""What the gateway fuzz suites send, as Hypothesis strategies: JSON no serialiser would write,
and hostile values for the fields the gateway parses.

Why a JSON writer of our own: `json.dumps` cannot write `1e400`, a lone surrogate as `\\ud800`
next to raw UTF-8, or ten thousand levels of nesting, and those are exactly what a sender can
put on the wire. Values are built from plain JSON types plus `Raw` (a number token written
as given) and `Deep` (nesting written without recursion).
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

# --------------------------------------------------------------------------- JSON on the wire


@dataclass(frozen=True)
class Raw:
    """A JSON number token written verbatim: `1e400`, `-0`, a 5000-digit integer."""

    token: str


@dataclass(frozen=True)
class Deep:
    """`leaf` inside `depth` arrays (or objects with key "a"), written without recursion."""

    depth: int
    objects: bool
    leaf: Any = None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _string(value: str, ascii_only: bool) -> str:
    text = json.dumps(value, ensure_ascii=ascii_only)
    # Raw UTF-8 everywhere else, but a lone surrogate has no UTF-8: it goes as a \u escape,
    # which is legal JSON and decodes to a str that no database or encoder will take.
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def dumps(value: Any, *, ascii_only: bool = False) -> str:
    """JSON text of `value` (plain JSON types, Raw, Deep)."""
    if isinstance(value, Raw):
        return value.token
    if isinstance(value, Deep):
        opening, closing = ('{"a":', "}") if value.objects else ("[", "]")
        leaf = dumps(value.leaf, ascii_only=ascii_only)
        return opening * value.depth + leaf + closing * value.depth
    if isinstance(value, str):
        return _string(value, ascii_only)
    if isinstance(value, dict):
        items = (
            f"{_string(k, ascii_only)}:{dumps(v, ascii_only=ascii_only)}" for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(item, ascii_only=ascii_only) for item in value) + "]"
    return json.dumps(value)  # None, bool, int, finite float


@st.composite
def wire(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> bytes:
    """The body bytes of a generated document, with non-ASCII raw or \\u-escaped."""
    return dumps(draw(values), ascii_only=draw(st.booleans())).encode()


# --------------------------------------------------------------------------- hostile values

# NUL is drawn apart (texts): the gateway refuses it anywhere in a body, so a NUL in every
# other string would leave little for the layers after the parser to see.
_ODD_CHARACTERS = "\x1f\x7f\u0085\u00a0\u2028\u2029\u200b\u202e\ufeff\ufffd\uffff\U0010ffff"


def _weighted(characters: st.SearchStrategy[str], min_size: int, max_size: int | None) -> Any:
    """Strings where a third of the characters are lone surrogates and a few are odd ones.

    Through `st.lists`, not `st.text`: text() merges a union of character strategies into
    one set and then draws mostly ASCII from it, so surrogates came once in a hundred strings.
    """
    alphabet = st.one_of(
        characters, st.characters(categories=["Cs"]), st.sampled_from(_ODD_CHARACTERS)
    )
    return st.lists(alphabet, min_size=min_size, max_size=max_size).map("".join)


@st.composite
def texts(draw: st.DrawFn, min_size: int = 0, max_size: int | None = None) -> str:
    """Any unicode: half plain text, half heavy with lone surrogates, controls, bidi
    overrides and non-characters; one in ten with a NUL."""
    text = draw(
        st.one_of(
            st.text(min_size=min_size, max_size=max_size),
            _weighted(st.characters(exclude_characters="\x00"), min_size, max_size),
        )
    )
    if text and now_and_then(draw, 10):
        at = draw(st.integers(min_value=0, max_value=len(text) - 1))
        text = text[:at] + "\x00" + text[at + 1 :]
    return text


def now_and_then(draw: st.DrawFn, one_in: int) -> bool:
    """True about one time in `one_in`. On a middle value, because Hypothesis draws the
    bounds of an integer range far more often than the rest; shrinks to False."""
    return draw(st.integers(min_value=0, max_value=one_in - 1)) == one_in // 2


@st.composite
def names(draw: st.DrawFn, max_size: int) -> str:
    """Text a length-checked field takes (no C0 controls, not blank); one in four heavy with
    lone surrogates and odd characters beyond C0, which a validator may refuse or let by."""
    plain = st.characters(exclude_categories=["Cc", "Cs"])
    if now_and_then(draw, 4):
        odd = _weighted(plain, 1, max_size).map(lambda s: s.replace("\x00", "").replace("\x1f", ""))
        return draw(odd.filter(lambda s: s.strip() != ""))
    return draw(st.text(plain, min_size=1, max_size=max_size).filter(lambda s: s.strip() != ""))


def slugs(max_size: int = 30) -> st.SearchStrategy[str]:
    """A name a NAME_PATTERN field takes (a source: ASCII letters first, then ._:/-)."""
    return st.from_regex(rf"\A[A-Za-z0-9][A-Za-z0-9._:/-]{{0,{max_size - 1}}}\Z")


_NUMBER_TOKENS = [
    "1e400", "-1e400", "1e-400", "1E+308", "1.8e308", "4.9e-325", "-0", "-0.0", "0e999999999",
    "1e999999999", "1e-999999999", "123456789012345678901234567890.5",
]  # fmt: skip


def _wild_numbers() -> st.SearchStrategy[Raw]:
    """Number tokens that parse but that no double holds: exponents far past 308 either way,
    more digits than a double keeps, negative zero."""
    return st.one_of(
        st.sampled_from(_NUMBER_TOKENS).map(Raw),
        st.builds(
            lambda mantissa, exponent: Raw(f"{mantissa}e{exponent}"),
            st.integers(min_value=-999, max_value=999),
            st.integers(min_value=-(10**6), max_value=10**6),
        ),
    )


def numbers() -> st.SearchStrategy[Any]:
    """Integers of any size, any finite float, wild tokens, and integers around Python's
    4300-digit parsing limit."""
    return st.one_of(
        st.integers(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        _wild_numbers(),
        # Built lazily, to keep Hypothesis's reprs of these strategies short.
        st.sampled_from([4300, 4301, 10_000]).map(lambda digits: Raw("9" * digits)),
    )


_ZONES = st.one_of(
    st.just(UTC),
    st.integers(min_value=-1439, max_value=1439).map(lambda m: timezone(timedelta(minutes=m))),
)
_TIME_TOKENS = [
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999-23:59",
    "9999-12-31T23:59:59.999999+23:59", "9999-12-31T23:59:59.999999999Z",
    "2026-11-26T08:59:00.123456789Z", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z",
    "2026-11-26T08:59:00", "2026-02-30T00:00:00Z", "2026-11-26T24:00:00Z",
    "2026-11-26T08:59:00+24:00", "1970-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
]  # fmt: skip


def datetimes() -> st.SearchStrategy[Any]:
    """A time field as a sender may write it: any instant of years 1 to 9999 at any offset,
    often on their first or last day (whose UTC is then outside them), the extremes
    themselves, nanoseconds, no zone, impossible dates, and numbers (read as unix times)."""
    aware = st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=_ZONES)
    first_day = st.datetimes(max_value=datetime(1, 1, 2), timezones=_ZONES)
    last_day = st.datetimes(min_value=datetime(9999, 12, 30), timezones=_ZONES)
    return st.one_of(
        aware.map(datetime.isoformat),
        aware.map(lambda at: at.isoformat().replace("+00:00", "Z")),
        st.one_of(first_day, last_day).map(datetime.isoformat),
        st.sampled_from(_TIME_TOKENS),
        st.datetimes().map(datetime.isoformat),
        numbers(),
    )


def dates() -> st.SearchStrategy[Any]:
    """A date field: any date, the extremes, impossible ones, datetimes and numbers."""
    return st.one_of(
        st.dates().map(date.isoformat),
        st.sampled_from(["0001-01-01", "9999-12-31", "0000-01-01", "10000-01-01", "2026-02-30"]),
        datetimes(),
    )


def deep(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Deep]:
    """Nesting around the depths where parsers, validators, encoders and databases give up
    (pydantic, Python's json and PostgreSQL's json all have limits, none of them the same):
    below Python's parser limit (about 1000), where the layers after it are tried, and just
    past it, where only a caller that forgot to catch RecursionError fails."""
    depth = st.one_of(
        st.integers(min_value=1, max_value=64),
        st.sampled_from([255, 256, 257, 500, 512, 999, 1000, 1001, 2000, 5000, 20_000, 100_000]),
        st.integers(min_value=200, max_value=1100),
        st.integers(min_value=1000, max_value=3000),
    )
    return st.builds(Deep, depth, st.booleans(), leaf)


def hostile() -> st.SearchStrategy[Any]:
    """One value of a class that passes the parser and may break a layer after it: a lone
    surrogate, deep nesting, a number no double holds, an edge-of-range time, an odd
    character."""
    return st.one_of(
        st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2).map(lambda s: f"a{s}b"),
        deep(st.none() | st.integers()),
        _wild_numbers(),
        datetimes(),
        st.sampled_from(_ODD_CHARACTERS),
    )


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Arbitrary JSON: any scalar above, hostile ones often, nested lists and objects."""
    scalars = st.one_of(
        st.none(), st.booleans(), numbers(), texts(max_size=40), datetimes(), hostile()
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=5) | st.dictionaries(texts(max_size=20), inner, max_size=5)
        ),
        max_leaves=max_leaves,
    )


@st.composite
def fuzzed(
    draw: st.DrawFn,
    plausible: st.SearchStrategy[Any],
    one_in: int = 16,
    anything: st.SearchStrategy[Any] | None = None,
) -> Any:
    """Mostly a plausible value, one time in `one_in` anything at all (default: small JSON)."""
    if now_and_then(draw, one_in):
        return draw(json_values(max_leaves=5) if anything is None else anything)
    return draw(plausible)


@st.composite
def document(draw: st.DrawFn, required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    """An object with the required fields (rarely one left out), some of the optional ones,
    and now and then an unknown field; each value drawn from its strategy."""
    result: dict[str, Any] = {}
    for name, strategy in required.items():
        if not now_and_then(draw, 32):
            result[name] = draw(strategy)
    for name, strategy in optional.items():
        if draw(st.booleans()):
            result[name] = draw(strategy)
    if now_and_then(draw, 10):
        result.update(
            draw(st.dictionaries(texts(max_size=10), json_values(max_leaves=5), max_size=2))
        )
    return result
