"""IAM condition operators and their evaluation against a request context.

Semantics (IAM User Guide, "Condition operators" and "Multivalued context keys"):

* several values for one key are OR-ed; several keys and several operators are AND-ed;
* condition key names are case-insensitive, values follow the operator's case rule;
* a key absent from the request: positive operators are false, negated ones (``StringNotEquals``,
  ``ArnNotLike`` ...) are true; ``...IfExists`` forms are true; ``Null`` tests presence;
* ``ForAnyValue:`` is true when at least one request value matches (false if the key is absent);
  ``ForAllValues:`` when every request value matches (true if the key is absent);
* an operator without ``ForAnyValue:``/``ForAllValues:`` compares *one* request value ("Single-
  valued vs. multivalued context keys": multivalued keys such as ``aws:TagKeys`` require a set
  operator).  When the request carries several values for the key, the plain operator does not
  match: a positive operator is false, a negated one true -- it is never read as a set operator;
* an undefined operator (IAM refuses the document) never holds, so its statement never applies;
* a policy variable replaced in a value is literal text (``${*}`` is the character ``*``): the
  evaluator marks its ``*``/``?`` with :func:`protect_literal` before the operators see it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from batchforge.iam.glob import ANY, ONE, Glob
from batchforge.iam.model import ConditionClause

Context = Mapping[str, Sequence[str]]
"""Request context: lower-cased key -> values (single-valued keys have one value)."""

_Match = Callable[[str, str], bool]
"""(request value, policy value) -> does the positive operator match."""


_LITERAL_STAR = "\ue004"
_LITERAL_ONE = "\ue005"
_PROTECT = str.maketrans({"*": _LITERAL_STAR, "?": _LITERAL_ONE})
_UNPROTECT = str.maketrans({_LITERAL_STAR: "*", _LITERAL_ONE: "?"})


def protect_literal(value: str) -> str:
    """Mark the ``*``/``?`` of a substituted value as literal characters, not wildcards."""
    return value.translate(_PROTECT)


def _plain(policy: str) -> str:
    """A policy value as text (literal marks back to ``*``/``?``)."""
    if _LITERAL_STAR in policy or _LITERAL_ONE in policy:
        return policy.translate(_UNPROTECT)
    return policy


@lru_cache(maxsize=4096)
def like_glob(policy: str) -> Glob:
    """A ``...Like`` value as a glob: ``*``/``?`` are wildcards, protected ones literal."""
    return Glob(ANY if ch == "*" else ONE if ch == "?" else _plain(ch) for ch in policy)


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _cmp(parse: Callable[[str], object], test: Callable[[object, object], bool]) -> _Match:
    def match(request: str, policy: str) -> bool:
        a, b = parse(request), parse(_plain(policy))
        return a is not None and b is not None and test(a, b)

    return match


def _ip_in(request: str, policy: str) -> bool:
    try:
        net = ipaddress.ip_network(_plain(policy), strict=False)
        return ipaddress.ip_address(request.split("/")[0]) in net
    except ValueError:
        return False


def _arn_like(request: str, policy: str) -> bool:
    """ARN match: the six colon-separated parts are compared one by one, with wildcards."""
    req, pol = request.split(":", 5), policy.split(":", 5)
    if len(req) != 6 or len(pol) != 6:
        return like_glob(policy).matches(request)
    return all(like_glob(p).matches(r) for r, p in zip(req, pol, strict=True))


def _bool(request: str, policy: str) -> bool:
    policy = _plain(policy)
    return request.lower() == policy.lower() and policy.lower() in ("true", "false")


def _equals(request: str, policy: str) -> bool:
    return request == _plain(policy)


def _equals_ignore_case(request: str, policy: str) -> bool:
    return request.lower() == _plain(policy).lower()


def _like(request: str, policy: str) -> bool:
    return like_glob(policy).matches(request)


_LT: Callable[[object, object], bool] = lambda a, b: a < b  # type: ignore[operator]  # noqa: E731
_LE: Callable[[object, object], bool] = lambda a, b: a <= b  # type: ignore[operator]  # noqa: E731
_GT: Callable[[object, object], bool] = lambda a, b: a > b  # type: ignore[operator]  # noqa: E731
_GE: Callable[[object, object], bool] = lambda a, b: a >= b  # type: ignore[operator]  # noqa: E731
_EQ: Callable[[object, object], bool] = lambda a, b: a == b  # noqa: E731

OPERATORS: dict[str, tuple[_Match, bool]] = {
    "StringEquals": (_equals, False),
    "StringNotEquals": (_equals, True),
    "StringEqualsIgnoreCase": (_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_equals_ignore_case, True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "NumericEquals": (_cmp(_num, _EQ), False),
    "NumericNotEquals": (_cmp(_num, _EQ), True),
    "NumericLessThan": (_cmp(_num, _LT), False),
    "NumericLessThanEquals": (_cmp(_num, _LE), False),
    "NumericGreaterThan": (_cmp(_num, _GT), False),
    "NumericGreaterThanEquals": (_cmp(_num, _GE), False),
    "DateEquals": (_cmp(_date, _EQ), False),
    "DateNotEquals": (_cmp(_date, _EQ), True),
    "DateLessThan": (_cmp(_date, _LT), False),
    "DateLessThanEquals": (_cmp(_date, _LE), False),
    "DateGreaterThan": (_cmp(_date, _GT), False),
    "DateGreaterThanEquals": (_cmp(_date, _GE), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_equals, False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
}
"""Base operator -> (positive match function, negated?)."""

QUALIFIERS = ("ForAnyValue", "ForAllValues")
_LOWER_OPERATORS = {name.lower(): name for name in [*OPERATORS, "Null"]}


def split_operator(raw: str) -> tuple[str | None, str, bool] | None:
    """``ForAnyValue:StringLikeIfExists`` -> (``ForAnyValue``, ``StringLike``, True).

    Returns None for an unknown operator.  Names are matched exactly (IAM is case-sensitive).
    """
    qualifier, sep, rest = raw.partition(":")
    if not sep:
        qualifier, rest = None, raw  # type: ignore[assignment]
    elif qualifier not in QUALIFIERS:
        return None
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in OPERATORS and base != "Null":
        return None
    if base == "Null" and (if_exists or qualifier):
        return None
    return qualifier, base, if_exists


def closest_operator(raw: str) -> str | None:
    """The operator ``raw`` probably meant when only its case is wrong, or None."""
    head, sep, rest = raw.partition(":")
    qualifier = None
    if sep:
        qualifier = next((q for q in QUALIFIERS if q.lower() == head.lower()), None)
        if qualifier is None:
            return None
    else:
        rest = raw
    lower = rest.lower()
    if_exists = lower.endswith("ifexists") and lower != "ifexists"
    base = _LOWER_OPERATORS.get(lower.removesuffix("ifexists") if if_exists else lower)
    if base is None:
        return None
    fixed = (f"{qualifier}:" if qualifier else "") + base + ("IfExists" if if_exists else "")
    return fixed if split_operator(fixed) else None


def _clause_holds(
    clause: ConditionClause, request: Sequence[str] | None, values: Sequence[str]
) -> bool:
    if not clause.known:
        return False
    if clause.operator == "Null":
        want_absent = any(v.lower() == "true" for v in values)
        return (not request) == want_absent
    match, negated = OPERATORS[clause.operator]
    if not request:
        if clause.qualifier == "ForAllValues":
            return True
        if clause.qualifier == "ForAnyValue":
            return False
        return clause.if_exists or negated

    def one(value: str) -> bool:
        hit = any(match(value, p) for p in values)
        return not hit if negated else hit

    if clause.qualifier == "ForAllValues":
        return all(one(v) for v in request)
    if clause.qualifier == "ForAnyValue":
        return any(one(v) for v in request)
    if len(request) > 1:  # a plain operator on several values: no single value to compare
        return negated
    return one(request[0])


def conditions_hold(
    clauses: Sequence[ConditionClause],
    context: Context,
    resolve: Callable[[str], str | None] | None = None,
) -> tuple[bool, ConditionClause | None]:
    """AND of all clauses.  Returns (holds, first failing clause).

    ``resolve`` substitutes policy variables in condition values; a value whose variable has no
    value in the context is dropped (it can never match).
    """
    for clause in clauses:
        values: Sequence[str] = clause.values
        if resolve is not None:
            values = [v for raw in clause.values if (v := resolve(raw)) is not None]
        if not _clause_holds(clause, context.get(clause.key.lower()), values):
            return False, clause
    return True, None


def normalise_context(context: Mapping[str, str | Sequence[str]] | None) -> dict[str, list[str]]:
    """Lower-case keys, single values as one-element lists."""
    out: dict[str, list[str]] = {}
    for key, value in (context or {}).items():
        out[key.lower()] = [value] if isinstance(value, str) else [str(v) for v in value]
    return out
