"""The input rules every request obeys: text that can be stored and served, numbers that fit.

One place decides what input can never be accepted, whatever the route:

- a NUL character (PostgreSQL refuses it in ``text`` and ``json``; C strings end at it);
- a lone UTF-16 surrogate (``"\\ud800"`` in JSON: not encodable as UTF-8, so a stored value
  breaks every later read that serialises it);
- an integer outside the signed 64-bit range (database ids and counts are ``BIGINT``);
- a float that is not finite (``NaN``/``Infinity`` are not JSON and not storable);
- JSON nested deeper than :data:`MAX_DEPTH`, strings longer than :data:`MAX_JSON_TEXT`,
  query values longer than :data:`MAX_QUERY_TEXT`, paths longer than :data:`MAX_PATH_TEXT`.

Each check raises :class:`~batchforge.errors.InvalidInput` (a 400) whose ``field`` names the
offending value (``launch.configText``, ``workspaceId``, ``labels[2].name``).  Per-field limits
(names, URLs) stay on the pydantic models; these are the limits no field may exceed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from batchforge.errors import InvalidInput

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 32
KIB = 1024
MAX_JSON_TEXT = 1024 * KIB  # the largest launch text (paramsText) is 512 KiB
MAX_QUERY_TEXT = 4 * KIB  # an S3 key is at most 1,024 bytes; tokens and searches are short
MAX_PATH_TEXT = 8 * KIB
MAX_HEADER_TEXT = 8 * KIB


def _invalid(field: str, reason: str) -> InvalidInput:
    name = safe_name(field)
    return InvalidInput(f"{name}: {reason}", field=name)


def safe_name(name: str, limit: int = 200) -> str:
    """``name`` fit to be echoed in an error: escapes for what is not storable, shortened."""
    shown = name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")
    return shown if len(shown) <= limit else shown[:limit] + "…"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored and served, or None."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate, which is not valid Unicode text"
    return None


def check_text(value: str, field: str, limit: int) -> None:
    """A 400 naming ``field`` when ``value`` is not storable text or is over ``limit``."""
    problem = text_problem(value)
    if problem:
        raise _invalid(field, problem)
    if len(value) > limit:
        raise _invalid(field, f"{len(value):,} characters is over the limit of {limit:,}")


def check_integer(value: int, field: str) -> None:
    """A 400 naming ``field`` when ``value`` does not fit a signed 64-bit integer."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise _invalid(field, "the number is outside the 64-bit range of ids and counts")


# Paging and size parameters (Seqera's ``max``/``offset``, the explorer's ``pageSize``, the
# log's ``maxLength``): a negative value is refused whatever the route.
COUNT_PARAMETERS = frozenset({"max", "offset", "pageSize", "maxLength"})


def check_count(value: int, field: str) -> None:
    """A 400 naming ``field`` when a paging or size parameter is negative."""
    check_integer(value, field)
    if value < 0:
        raise _invalid(field, "must not be negative")


def integer_text(value: str) -> int | None:
    """``value`` as an integer when it is written as one (``"12"``, ``"-3"``), else None."""
    digits = value.strip()
    body = digits[1:] if digits[:1] in "+-" else digits
    if body.isascii() and body.isdigit():
        return int(digits)
    return None


def check_json(value: Any, field: str = "body", depth: int = 0) -> None:
    """Every string, number and key of a parsed JSON document, recursively."""
    if depth > MAX_DEPTH:
        raise _invalid(field, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        check_text(value, field, MAX_JSON_TEXT)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        check_integer(value, field)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _invalid(field, "the number is not finite")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key) if field == "body" else f"{field}.{key}"
            check_text(str(key), name, MAX_QUERY_TEXT)
            check_json(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{field}[{index}]", depth + 1)


def check_fields(items: Iterable[tuple[str, str]], limit: int = MAX_JSON_TEXT) -> None:
    """Named text values (form fields, query parameters): each storable and within ``limit``."""
    for name, value in items:
        check_text(name, name or "field", MAX_QUERY_TEXT)
        check_text(value, name, limit)
