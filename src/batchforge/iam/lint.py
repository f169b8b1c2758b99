"""Static findings on a parsed policy, graded like IAM Access Analyzer's policy validation.

SECURITY_WARNING: grants that are dangerous whatever batchforge needs (PassRole to any service,
Allow with NotAction/NotResource, ``*`` actions, role creation on any role).  WARNING: grants that
do not do what they look like (an action that supports no resource-level permissions listed with
specific ARNs; an action none of whose resource types the statement's resources can match).
SUGGESTION: tighter alternatives (scoping a ``...CanBeRestricted`` section, actions that none of
the selected features use, an ``iam:PolicyARN`` condition on AttachRolePolicy).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from batchforge.iam.actions import arn_format_glob, dataset
from batchforge.iam.arnglob import policy_glob, request_glob
from batchforge.iam.catalog import entry_features, section_by_sid, sections
from batchforge.iam.glob import Glob
from batchforge.iam.model import Finding, Policy, Severity, Statement

_ESCALATION = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
)
_ANY_ROLE = request_glob("arn:aws:iam::*:role/*")


def lint_policy(policy: Policy, features: Iterable[str]) -> list[Finding]:
    """All static findings for ``policy`` given the features it is meant for."""
    chosen = set(features)
    out: list[Finding] = []
    for st in policy.statements:
        if st.effect != "Allow":
            continue
        out.extend(_security(st))
        out.extend(_applicability(st))
        out.extend(_suggestions(st, chosen))
    return out


def _finding(
    st: Statement, severity: Severity, code: str, message: str, hint: str | None = None
) -> Finding:
    return Finding(severity, code, message, hint, st.line, None, f"Statement[{st.index}]", st.sid)


def _grants(st: Statement, action: str) -> bool:
    if st.actions is not None:
        return any(Glob.parse(a, ignore_case=True).matches(action) for a in st.actions)
    return not any(Glob.parse(a, ignore_case=True).matches(action) for a in st.not_actions or ())


def _any_resource(st: Statement, target: Glob) -> bool:
    if st.resources is not None:
        return any(_policy(r).contains(target) for r in st.resources)
    return not any(_policy(r).overlaps(target) for r in st.not_resources or ())


def _policy(resource: str) -> Glob:
    glob = policy_glob(resource)
    assert glob is not None  # without a resolver every value gives a glob
    return glob


@lru_cache(maxsize=2048)
def _format_glob(arn_format: str) -> Glob:
    """The ARNs of a dataset resource type, its placeholders filled with colon-free names."""
    return request_glob(arn_format_glob(arn_format).text)


def _has_key(st: Statement, key: str) -> bool:
    return any(c.key.lower() == key.lower() for c in st.conditions)


def _security(st: Statement) -> Iterator[Finding]:
    """Allow statements that are broad by construction."""
    if st.not_actions is not None:
        yield _finding(
            st,
            Severity.SECURITY_WARNING,
            "allow-with-notaction",
            f"{st.label} allows every action except those listed (Allow with "
            "NotAction), including actions added to AWS in the future.",
            "List the allowed actions with Action instead.",
        )
    if st.not_resources is not None:
        yield _finding(
            st,
            Severity.SECURITY_WARNING,
            "allow-with-notresource",
            f"{st.label} allows the actions on every resource except those listed "
            "(Allow with NotResource).",
            "List the allowed resources instead.",
        )
    if st.actions is not None and "*" in st.actions:
        yield _finding(
            st,
            Severity.SECURITY_WARNING,
            "allow-all-actions",
            f'{st.label} allows every action ("Action": "*").',
            "Use the generated least-privilege policy.",
        )
    yield from _iam_risks(st)


def _iam_risks(st: Statement) -> Iterator[Finding]:
    """IAM-specific escalation paths: PassRole anywhere, role writes on any role."""
    for action in st.actions or ():
        if action.lower() in ("iam:*", "sts:*"):
            yield _finding(
                st,
                Severity.SECURITY_WARNING,
                "allow-all-service-actions",
                f"{st.label} allows every {action.split(':')[0]} action ({action}).",
                "List the actions batchforge needs instead.",
            )
    if (
        _grants(st, "iam:PassRole")
        and _any_resource(st, _ANY_ROLE)
        and not _has_key(st, "iam:PassedToService")
    ):
        yield _finding(
            st,
            Severity.SECURITY_WARNING,
            "passrole-unrestricted",
            f"{st.label} allows iam:PassRole on any role to any service.",
            "Add a StringEquals condition on iam:PassedToService (batch.amazonaws.com, "
            "ec2.amazonaws.com) and restrict Resource to role/TowerForge-*.",
        )
    escalating = [a for a in _ESCALATION if _grants(st, a) and _any_resource(st, _ANY_ROLE)]
    if escalating:
        yield _finding(
            st,
            Severity.SECURITY_WARNING,
            "iam-write-any-role",
            f"{st.label} allows {', '.join(escalating)} on any role: the holder can "
            "create or change a role with any permissions and pass it on.",
            "Restrict Resource to arn:aws:iam::<account>:role/TowerForge-*.",
        )
    elif _grants(st, "iam:AttachRolePolicy") and not _has_key(st, "iam:PolicyARN"):
        yield _finding(
            st,
            Severity.SUGGESTION,
            "attach-role-policy-unconditioned",
            f"{st.label} lets roles get any managed policy attached.",
            "Add a condition on iam:PolicyARN listing the AWS managed policies Forge "
            "attaches, or use a permissions boundary.",
        )


def _concrete_actions(st: Statement) -> list[str]:
    """Non-glob actions of the statement (a glob is not expected to fit every resource)."""
    data = dataset()
    return [
        info.name
        for action in st.actions or ()
        if "*" not in action and "?" not in action and (info := data.action(action))
    ]


def _applicability(st: Statement) -> Iterator[Finding]:
    if st.resources is None or "*" in st.resources:
        return
    resources = [g for r in st.resources if (g := policy_glob(r)) is not None]
    data = dataset()
    for action in _concrete_actions(st):
        info = data.action(action)
        if info is None:
            continue
        if not info.supports_resource_level:
            yield _finding(
                st,
                Severity.WARNING,
                "no-resource-level-support",
                f"{action} supports no resource-level permissions: {st.label} never "
                "grants it, because it lists specific resources.",
                f'Grant {action} in a statement with "Resource": "*".',
            )
            continue
        formats = [_format_glob(rt.arn) for rt in info.resource_types]
        if not any(f.overlaps(r) for f in formats for r in resources):
            kinds = ", ".join(rt.name for rt in info.resource_types)
            yield _finding(
                st,
                Severity.WARNING,
                "resource-mismatch",
                f"None of the resources in {st.label} is a {kinds} ARN, so it never "
                f"grants {action}.",
                f"{action} acts on: {info.resource_types[0].arn}",
            )


def _suggestions(st: Statement, chosen: set[str]) -> Iterator[Finding]:
    section = section_by_sid(st.sid) if st.sid else None
    if section and st.resources == ("*",) and "CanBeRestricted" in section.sid:
        yield _finding(
            st,
            Severity.SUGGESTION,
            "can-be-restricted",
            f"{st.label} applies to every resource; it can be restricted: {section.scoping}",
            "batchforge policy generate --account ... --region ... prints the restricted version.",
        )
    unused = [a for a in st.actions or () if a != "*" and not _wanted(a, chosen)]
    if unused:
        yield _finding(
            st,
            Severity.SUGGESTION,
            "unused-actions",
            f"{st.label} grants {', '.join(unused)}, which none of the selected features use.",
            "Remove them unless something else needs them.",
        )


def _wanted(action: str, chosen: set[str]) -> bool:
    """Whether a granted action (or glob) is something the chosen features use."""
    return _wanted_cached(action.lower(), frozenset(chosen))


@lru_cache(maxsize=4096)
def _wanted_cached(action: str, chosen: frozenset[str]) -> bool:
    """:func:`_wanted` for a lower-cased action (the catalog is static: safe to memoise)."""
    glob = Glob.parse(action, ignore_case=True)
    for section in sections(extras=True):
        for entry in section.actions:
            if entry.lower() == action and entry_features(section, entry) & chosen:
                return True
        if any(n.feature in chosen and glob.matches(n.action) for n in section.needs):
            return True
    return False
