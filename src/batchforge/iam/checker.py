"""Offline policy check: does a pasted policy give batchforge what the chosen features need?

``check_policy(text, features, scope)`` parses the policy (located findings for every mistake),
evaluates every permission from the catalog -- required, optional, dependent and extras -- with
the real IAM semantics of :mod:`.evaluator`, and adds static findings from :mod:`.lint`.  The
:class:`Report` says ``ok`` when every *required* permission is allowed; it renders as text and
as a JSON-able dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from batchforge.iam.catalog import (
    ALL_SECTIONS,
    Permission,
    dependent_permissions,
    required_permissions,
)
from batchforge.iam.catalog_model import resolve_features
from batchforge.iam.evaluator import Decision, Evaluation, PolicyEvaluator
from batchforge.iam.lint import lint_policy
from batchforge.iam.model import SEVERITY_ORDER, Finding, Policy, Severity
from batchforge.iam.parse import parse_policy
from batchforge.iam.report import render_text
from batchforge.iam.scope import Scope

EVALUATION_CODES = frozenset(
    {
        "required-permission-missing",
        "explicit-deny",
        "optional-permission-missing",
        "dependent-action-missing",
        "extra-permission-available",
    }
)
_SECTIONS = {s.sid: s for s in ALL_SECTIONS}
_MAX_LISTED = 6
_SCOPE_HINT = (
    " If the policy is meant for one account, region, bucket or queue, check it with the same"
    " scope (--account, --region, --work-dir, --data-bucket, --queue): by default the check"
    " asks for any of them."
)


@dataclass(frozen=True)
class PermissionResult:
    """The decision for one catalog permission."""

    permission: Permission
    evaluation: Evaluation

    @property
    def allowed(self) -> bool:
        return self.evaluation.allowed

    def to_dict(self) -> dict[str, Any]:
        out = self.permission.to_dict()
        out["decision"] = self.evaluation.decision.value
        st = self.evaluation.statement or self.evaluation.near_miss
        if st is not None:
            out["statement"] = {
                "index": st.index,
                "sid": st.sid,
                "line": st.line,
                "policy": st.policy_index,
            }
        out["reason"] = self.evaluation.reason
        return out


@dataclass
class Report:
    """Outcome of a policy check."""

    features: tuple[str, ...]
    scope: Scope
    policies: list[Policy | None]
    findings: list[Finding] = field(default_factory=list)
    results: list[PermissionResult] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """False when a policy could not be read at all (not JSON, empty, binary...)."""
        return bool(self.policies) and all(p is not None for p in self.policies)

    @property
    def ok(self) -> bool:
        """Every required permission is allowed."""
        return self.usable and not self.missing(required=True)

    @property
    def valid(self) -> bool:
        """No ERROR about the document itself (IAM would refuse or misread it)."""
        return self.usable and not any(
            f.severity is Severity.ERROR and f.code not in EVALUATION_CODES for f in self.findings
        )

    @property
    def exit_code(self) -> int:
        """CLI convention: 2 unreadable, 1 required permission missing or invalid, 0 fine."""
        if not self.usable:
            return 2
        return 0 if self.ok and self.valid else 1

    def missing(
        self, *, required: bool | None = None, kind: str | None = None
    ) -> list[PermissionResult]:
        return [
            r
            for r in self.results
            if not r.allowed
            and (required is None or r.permission.required == required)
            and (kind is None or r.permission.kind == kind)
        ]

    def to_dict(self) -> dict[str, Any]:
        sizes = [p.compact_size for p in self.policies if p is not None]
        return {
            "ok": self.ok,
            "valid": self.valid,
            "usable": self.usable,
            "features": list(self.features),
            "scope": self.scope.to_dict(),
            "policies": [
                {"shape": p.shape, "statements": len(p.statements), "size": p.compact_size}
                for p in self.policies
                if p is not None
            ],
            "size": sum(sizes) if sizes else None,
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            "permissions": [r.to_dict() for r in self.results],
        }

    def summary(self) -> dict[str, int]:
        return {
            "allowed": sum(r.allowed for r in self.results),
            "requiredMissing": len(self.missing(required=True)),
            "optionalMissing": len(self.missing(required=False, kind="seed")),
            "dependentMissing": len(self.missing(kind="dependent")),
            "extrasMissing": len(self.missing(kind="extra")),
            "errors": sum(f.severity is Severity.ERROR for f in self.findings),
            "securityWarnings": sum(f.severity is Severity.SECURITY_WARNING for f in self.findings),
        }

    def render_text(self, *, verbose: bool = False) -> str:
        return render_text(self, verbose=verbose)


def check_policy(
    source: str | bytes,
    features: Iterable[str] | None = None,
    scope: Scope | None = None,
    *,
    mode: str | None = None,
    extras: bool = True,
) -> Report:
    """Check one policy document (text or bytes, as pasted).  Never raises for bad policy
    input; unknown features or a bad scope raise :class:`~batchforge.errors.InvalidInput`."""
    return check_policies([source], features, scope, mode=mode, extras=extras)


def check_policies(
    sources: Sequence[str | bytes],
    features: Iterable[str] | None = None,
    scope: Scope | None = None,
    *,
    mode: str | None = None,
    extras: bool = True,
) -> Report:
    """Check several policies attached to the same principal, evaluated together."""
    chosen = resolve_features(features or (), mode=mode)
    scope = scope or Scope()
    findings: list[Finding] = []
    policies: list[Policy | None] = []
    for n, source in enumerate(sources):
        parsed = parse_policy(source)
        found = list(parsed.findings)
        if parsed.policy is not None:
            parsed.policy.statements = [
                replace(st, policy_index=n) for st in parsed.policy.statements
            ]
            found += lint_policy(parsed.policy, chosen)
        if len(sources) > 1:
            found = [
                replace(f, path=f"policy[{n}].{f.path}" if f.path else f"policy[{n}]")
                for f in found
            ]
        findings.extend(found)
        policies.append(parsed.policy)
    report = Report(chosen, scope, policies)
    if report.usable:
        report.results = _evaluate([p for p in policies if p is not None], chosen, scope, extras)
        findings.extend(_evaluation_findings(report.results))
    report.findings = sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.line or 0))
    return report


def _evaluate(
    policies: list[Policy], features: tuple[str, ...], scope: Scope, extras: bool
) -> list[PermissionResult]:
    evaluator = PolicyEvaluator.for_policies(policies)
    perms = required_permissions(features, scope, include_extras=extras)
    perms += dependent_permissions(features, scope, include_extras=extras)
    memo: dict[tuple[Any, ...], Evaluation] = {}
    out = []
    for perm in perms:
        key = (perm.action, perm.resource, perm.context)
        if key not in memo:
            memo[key] = evaluator.evaluate(perm.action, perm.resource, perm.context_dict)
        out.append(PermissionResult(perm, memo[key]))
    return out


def _evaluation_findings(results: list[PermissionResult]) -> list[Finding]:
    groups: dict[tuple[str, str, str], list[PermissionResult]] = {}
    for r in results:
        if r.allowed:
            continue
        p = r.permission
        grade = (
            "explicit"
            if r.evaluation.decision is Decision.EXPLICIT_DENY
            else "required"
            if p.required
            else p.kind
            if p.kind != "seed"
            else "optional"
        )
        groups.setdefault((grade, p.sid, p.feature), []).append(r)
    findings = [
        _group_finding(grade, sid, feature, items)
        for (grade, sid, feature), items in groups.items()
        if grade != "extra"
    ]
    extras = [r for (grade, _, _), items in groups.items() if grade == "extra" for r in items]
    if extras:
        findings.append(_extras_finding(extras))
    return findings


def _listing(items: list[PermissionResult]) -> str:
    parts = []
    for r in items[:_MAX_LISTED]:
        action, resource, context = r.permission.triple
        parts.append(f"{action} on {resource}" + (f" [{context}]" if context else ""))
    if len(items) > _MAX_LISTED:
        parts.append(f"and {len(items) - _MAX_LISTED} more")
    return "; ".join(parts)


def _group_finding(grade: str, sid: str, feature: str, items: list[PermissionResult]) -> Finding:
    section = _SECTIONS.get(sid)
    title = f"{sid} ({section.title})" if section else sid
    reasons = sorted({r.evaluation.reason for r in items})
    why = "; ".join(sorted({r.permission.why for r in items}))
    first = items[0].evaluation.statement or items[0].evaluation.near_miss
    line = first.line if first else None
    if grade == "explicit":
        return Finding(
            Severity.ERROR,
            "explicit-deny",
            f"Feature '{feature}': {_listing(items)} -- {'; '.join(reasons)}.",
            f"A Deny always wins over an Allow: narrow or remove the Deny. Without it: {why}.",
            line,
            None,
            None,
            items[0].evaluation.sid,
        )
    if grade == "required":
        return Finding(
            Severity.ERROR,
            "required-permission-missing",
            f"Feature '{feature}' needs {_listing(items)} ({'; '.join(reasons)}). "
            f"Without it: {why}.",
            f"Add the statement {title} -- see batchforge policy generate."
            + (_SCOPE_HINT if any("only for some" in r for r in reasons) else ""),
            line,
        )
    if grade == "dependent":
        parents = sorted({r.permission.dependent_of or "" for r in items})
        return Finding(
            Severity.WARNING,
            "dependent-action-missing",
            f"{_listing(items)} is not granted; the IAM reference lists it as a "
            f"dependent action of {', '.join(parents)}, which the seed's policy also "
            "lacks.",
            "AWS checks it only when the request uses the option that needs it "
            "(tags on create, a final backup...). Add it if such requests fail.",
            line,
        )
    return Finding(
        Severity.WARNING,
        "optional-permission-missing",
        f"Feature '{feature}' works without {_listing(items)}, but {why}.",
        f"Add it from the statement {title} to get this.",
        line,
    )


def _extras_finding(items: list[PermissionResult]) -> Finding:
    actions = sorted({r.permission.action for r in items})
    whys = sorted({f"{r.permission.action}: {r.permission.why}" for r in items})
    return Finding(
        Severity.SUGGESTION,
        "extra-permission-available",
        f"Optional permissions beyond the seed's policy are not granted: {', '.join(actions)}.",
        "Without them: "
        + "; ".join(whys[:_MAX_LISTED])
        + (" ..." if len(whys) > _MAX_LISTED else "")
        + ". batchforge policy generate --extras adds them.",
    )
