"""IAM identity-policy evaluation for *resource patterns*, not just single ARNs.

Rules implemented (IAM User Guide, "Policy evaluation logic", single account, identity policies
only -- no SCPs, boundaries or resource policies):

* by default everything is denied (IMPLICIT_DENY); an applicable Allow allows;
  an applicable Deny always wins (EXPLICIT_DENY);
* actions match case-insensitively with ``*``/``?``; resources match case-sensitively;
* ``NotAction``/``NotResource`` apply to everything *except* the listed values;
* conditions are AND-ed across operators and keys, OR-ed across values (:mod:`.conditions`);
* policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'default'}``, ``${*}``) are
  replaced from the request context when the policy's Version is 2012-10-17.

A required resource is a *pattern* (``arn:aws:batch:*:*:job-queue/TowerForge-*``, its wildcards
standing for colon-free names, see :mod:`.arnglob`): it is allowed when every ARN it stands for is
allowed -- by one Resource entry that *contains* the pattern, or by several Allow entries
together -- and denied if any Deny entry whose condition holds *overlaps* it (some of those ARNs
are denied).  So the pattern path agrees with evaluating every concrete ARN of the pattern:
allowed exactly when all are allowed, explicitly denied when one is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from batchforge.iam.arnglob import VARIABLE, policy_glob, request_glob
from batchforge.iam.conditions import (
    Context,
    conditions_hold,
    normalise_context,
    protect_literal,
)
from batchforge.iam.glob import Glob, covered
from batchforge.iam.model import ConditionClause, Policy, Statement


class Decision(StrEnum):
    ALLOWED = "ALLOWED"
    IMPLICIT_DENY = "IMPLICIT_DENY"
    EXPLICIT_DENY = "EXPLICIT_DENY"


@dataclass(frozen=True)
class Evaluation:
    """The decision for one (action, resource pattern, context) and what decided it.

    ``statement`` is the deciding Allow or Deny (None for a plain implicit deny).  ``near_miss``
    is an Allow that almost applied -- it covers the pattern only in part, or its condition did
    not hold -- to explain an implicit deny.
    """

    decision: Decision
    statement: Statement | None = None
    near_miss: Statement | None = None
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def sid(self) -> str | None:
        return self.statement.sid if self.statement else None

    @property
    def statement_index(self) -> int | None:
        return self.statement.index if self.statement else None


_VAR_BODY = re.compile(r"\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?")


def resolve_variable(body: str, context: Context) -> str | None:
    """The value of the policy variable ``${body}``: ``${*}``, ``${?}``, ``${$}`` are the
    literal characters; a key takes its (first) request value, else the default given after a
    comma; None when there is neither."""
    body = body.strip()
    if body in ("*", "?", "$"):
        return body
    m = _VAR_BODY.fullmatch(body)
    if m is None:
        return None
    values = context.get(m.group(1).lower())
    if values:
        return values[0]
    return m.group(2)


def substitute(text: str, context: Context) -> str | None:
    """Replace policy variables in a condition value; None if one has no value.

    A replaced value is literal text: its ``*`` and ``?`` are marked so that ``StringLike``
    does not read them as wildcards (``${*}`` is the character ``*``).
    """
    missing = False

    def repl(m: re.Match[str]) -> str:
        nonlocal missing
        value = resolve_variable(m.group(1), context)
        if value is None:
            missing = True
            return ""
        return protect_literal(value)

    out = VARIABLE.sub(repl, text)
    return None if missing else out


class _Compiled:
    """A statement with its globs compiled once."""

    def __init__(self, st: Statement, variables: bool) -> None:
        self.st = st
        self.allow = st.effect == "Allow"
        self.usable = st.effect in ("Allow", "Deny") and (
            (st.actions is not None or st.not_actions is not None)
            and (st.resources is not None or st.not_resources is not None)
        )
        self.negate_actions = st.actions is None
        listed = st.actions if st.actions is not None else st.not_actions or ()
        self.exact = frozenset(a.lower() for a in listed if "*" not in a and "?" not in a)
        self.wild = [Glob.parse(a, ignore_case=True) for a in listed if a.lower() not in self.exact]
        self.services: frozenset[str] | None = None
        """Service prefixes the statement can apply to; None means possibly any service."""
        prefixes = {a.partition(":")[0].lower() for a in listed}
        if not self.negate_actions and not any("*" in p or "?" in p for p in prefixes):
            self.services = frozenset(prefixes)
        self.negate_resources = st.resources is None
        raw = st.resources if st.resources is not None else st.not_resources or ()
        self.templates = tuple(r for r in raw if variables and "${" in r)
        self.resource_globs = [policy_glob(r) for r in raw if r not in self.templates]
        self.variables = variables
        self.conditions: tuple[ConditionClause, ...] = st.conditions

    def applies_to_action(self, action: str) -> bool:
        lower = action.lower()
        hit = lower in self.exact or any(g.matches(lower) for g in self.wild)
        return hit != self.negate_actions

    def globs(self, context: Context) -> list[Glob]:
        if not self.templates:
            return self.resource_globs

        def resolve(body: str) -> str | None:
            return resolve_variable(body, context)

        extra = [g for t in self.templates if (g := policy_glob(t, resolve)) is not None]
        return self.resource_globs + extra

    def coverage(self, pattern: Glob, context: Context) -> tuple[bool, bool]:
        """(covers the whole pattern, touches some of it) for this statement's resources."""
        globs = self.globs(context)
        if not self.negate_resources:
            if any(g.contains(pattern) for g in globs):
                return True, True
            return False, any(g.overlaps(pattern) for g in globs)
        # NotResource: the statement is about everything outside the listed resources
        if any(g.contains(pattern) for g in globs):
            return False, False
        return not any(g.overlaps(pattern) for g in globs), True

    def condition(self, context: Context) -> tuple[bool, ConditionClause | None]:
        if not self.conditions:
            return True, None
        resolve = (lambda v: substitute(v, context)) if self.variables else None
        return conditions_hold(self.conditions, context, resolve)


class PolicyEvaluator:
    """Evaluates requests against the statements of one or more identity policies.

    Build it once per policy set (globs are compiled here), then call :meth:`evaluate` as often
    as needed; it is safe to share between threads (no mutable state after construction besides
    memo caches of pure functions).
    """

    def __init__(self, statements: Sequence[Statement], *, variables: bool = True) -> None:
        self._compiled = [c for st in statements if (c := _Compiled(st, variables)).usable]
        self._by_action: dict[str, list[_Compiled]] = {}

    @classmethod
    def for_policies(cls, policies: Sequence[Policy]) -> PolicyEvaluator:
        """All statements of several policies attached to the same principal."""
        statements = [st for p in policies for st in p.statements]
        variables = all(p.supports_variables for p in policies)
        return cls(statements, variables=variables)

    def _candidates(self, action: str) -> list[_Compiled]:
        """Statements whose Action/NotAction applies to ``action``, in policy order."""
        key = action.lower()
        found = self._by_action.get(key)
        if found is None:
            service = key.partition(":")[0]
            found = [
                c
                for c in self._compiled
                if (c.services is None or service in c.services) and c.applies_to_action(key)
            ]
            self._by_action[key] = found
        return found

    def evaluate(
        self,
        action: str,
        resource: str = "*",
        context: Mapping[str, str | Sequence[str]] | None = None,
        *,
        resource_is_pattern: bool = True,
    ) -> Evaluation:
        """Decide ``action`` on ``resource``.

        With ``resource_is_pattern`` (the default) ``*`` and ``?`` in ``resource`` are wildcards
        standing for names without colons, and the answer holds for every ARN the pattern stands
        for (:func:`~batchforge.iam.arnglob.request_glob`; ``"*"`` alone is the resource of an
        action without resource types); otherwise ``resource`` is one concrete ARN.
        """
        ctx = normalise_context(context)
        pattern = request_glob(resource) if resource_is_pattern else Glob.literal(resource)
        allow: Statement | None = None
        near: tuple[Statement, str] | None = None
        partial: list[_Compiled] = []
        for c in self._candidates(action):
            whole, some = c.coverage(pattern, ctx)
            if not some:
                continue
            holds, failed = c.condition(ctx)
            if not c.allow:
                if holds:
                    return Evaluation(
                        Decision.EXPLICIT_DENY, c.st, reason=_deny_reason(c.st, whole)
                    )
                continue
            if whole and holds:
                allow = allow or c.st
                continue
            if holds and allow is None:
                partial.append(c)
            if near is None:
                near = (c.st, _near_reason(c.st, whole, failed))
        if allow is not None:
            return Evaluation(Decision.ALLOWED, allow, reason=f"allowed by {allow.label}")
        if partial and _together(partial, pattern, ctx):
            labels = " and ".join(c.st.label for c in partial)
            return Evaluation(Decision.ALLOWED, partial[0].st, reason=f"allowed by {labels}")
        if near is not None:
            return Evaluation(Decision.IMPLICIT_DENY, None, near[0], near[1])
        return Evaluation(Decision.IMPLICIT_DENY, reason="no statement allows it")


def _together(partial: list[_Compiled], pattern: Glob, context: Context) -> bool:
    """Whether Allow statements that each cover part of ``pattern`` cover all of it together
    (Resource entries of several statements, or several entries of one)."""
    union = [g for c in partial if not c.negate_resources for g in c.globs(context)]
    inside = [c.globs(context) for c in partial if c.negate_resources]
    return covered(pattern, union, inside)


def _deny_reason(st: Statement, whole: bool) -> str:
    scope = "" if whole else " (for part of the resources)"
    return f"explicitly denied by {st.label}{scope}"


def _near_reason(st: Statement, whole: bool, failed: ConditionClause | None) -> str:
    if not whole:
        return f"{st.label} allows it only for some of the resources needed"
    if failed is not None:
        return (
            f"{st.label} would allow it, but its condition {failed.raw_operator} "
            f"{failed.key} is not met"
        )
    return f"{st.label} does not apply"
