"""Plain data shared by the parser, evaluator and checker: findings and normalised statements."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """Finding grades, as IAM Access Analyzer's policy validation uses them."""

    ERROR = "ERROR"
    SECURITY_WARNING = "SECURITY_WARNING"
    WARNING = "WARNING"
    SUGGESTION = "SUGGESTION"


SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True)
class Finding:
    """One problem or remark about a policy.  ``code`` is stable (kebab-case)."""

    severity: Severity
    code: str
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None
    """Where in the document, e.g. ``Statement[2].Resource[1]``."""
    sid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity.value, "code": self.code}
        out["message"] = self.message
        for key in ("hint", "line", "column", "path", "sid"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @property
    def location(self) -> str:
        """``line 3, column 5`` or an empty string."""
        if self.line is None:
            return ""
        return f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"


@dataclass(frozen=True)
class ConditionClause:
    """One ``operator: {key: values}`` pair of a Condition block, split into its parts.

    ``operator`` is the base operator (``StringLike``); ``qualifier`` is ``ForAnyValue`` /
    ``ForAllValues`` or None; ``if_exists`` marks the ``...IfExists`` form.  ``key`` is kept as
    written (lookups are case-insensitive).
    """

    raw_operator: str
    operator: str
    qualifier: str | None
    if_exists: bool
    key: str
    values: tuple[str, ...]
    known: bool = True
    """False for an operator IAM does not define: such a clause never holds."""


@dataclass(frozen=True)
class Statement:
    """A statement normalised for evaluation.

    Exactly one of ``actions``/``not_actions`` and one of ``resources``/``not_resources`` is
    set when the statement is well formed; a malformed one keeps what could be read (an
    absent element is None and never matches).
    """

    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[ConditionClause, ...] = ()
    line: int | None = None
    policy_index: int = 0

    @property
    def label(self) -> str:
        """``Sid "X"`` or ``statement #3`` (1-based) for messages."""
        return f'"{self.sid}"' if self.sid else f"statement #{self.index + 1}"


@dataclass
class Policy:
    """A parsed identity policy: statements plus the facts the checker reports on."""

    statements: list[Statement] = field(default_factory=list)
    version: str | None = None
    shape: str = "policy"
    """``policy``, ``statement`` (a bare statement was given) or ``statements`` (a list)."""
    document: Any = None
    """The decoded JSON (after wrapping a bare statement/list into a policy)."""
    compact_size: int = 0
    """Characters with whitespace outside strings removed (what IAM's quotas count)."""

    @property
    def supports_variables(self) -> bool:
        """Policy variables only work with ``"Version": "2012-10-17"``."""
        return self.version == "2012-10-17"
