"""Turn an AWS AccessDenied into "you are missing X on Y; add section Z".

:func:`explain` reads what AWS said (``User: ARN is not authorized to perform: ACTION on
resource: ARN because no identity-based policy allows the ACTION2 action``), works out the IAM
action actually denied (the ``because ... allows the X action`` part wins: AWS names a
dependent action there, e.g. ``ec2:CreateTags`` for a ``CreateLaunchTemplate`` with tags), the
resource when AWS names it, and the catalog section that grants it.  :func:`access_denied_hint`
is the hook installed into :mod:`batchforge.aws.errors` by :func:`install` (called once at
process start by ``runtime.build_context``), so every AccessDenied the product raises carries
the hint, whichever use case made the call.

Nothing here calls AWS; the IAM dataset is loaded on the first explanation only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from batchforge.errors import InvalidInput
from batchforge.iam.calls import actions_for_call, canonical_action
from batchforge.iam.catalog import (
    CatalogEntry,
    dependent_resources,
    lookup_action,
    resources_for,
)
from batchforge.iam.glob import Glob
from batchforge.iam.scope import Scope, render_all

_ACTION = r"[A-Za-z0-9-]+:[A-Za-z0-9*]+"
_PERFORM = re.compile(
    rf"not authorized to perform:?\s+(?P<action>{_ACTION})"
    r"(?:\s+on resource:?\s+(?P<resource>\S+))?",
    re.IGNORECASE,
)
_BECAUSE_ACTION = re.compile(rf"allows? the (?P<action>{_ACTION}) action", re.IGNORECASE)
_EXPLICIT = re.compile(r"explicit deny in an? (?P<where>[\w -]*?policy)", re.IGNORECASE)
_NOT_ALLOWED_BY = re.compile(
    r"because no (?P<where>(?:identity-based|resource-based|session|service control|"
    r"resource control)\s+polic(?:y|ies)|permissions boundary)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Explanation:
    """What was denied, and what to add."""

    action: str
    resource: str | None
    entry: CatalogEntry | None
    explicit_deny: bool = False
    denied_by: str | None = None
    """``identity-based policy``, ``permissions boundary``, ``service control policy``..."""
    statement: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The hint shown to users."""
        on = f" on {self.resource}" if self.resource else ""
        where = _where_text(self.entry)
        if self.explicit_deny:
            return (
                f"An explicit Deny in {_a(self.denied_by or 'policy')} blocks {self.action}{on}: "
                f"remove or narrow that Deny (no Allow can override it). {where[0].upper()}"
                f"{where[1:]}"
            )
        statement = json.dumps(self.statement, separators=(", ", ": "))
        if self.denied_by and self.denied_by != "identity-based policy":
            return (
                f"{self.action}{on} is not allowed by {_a(self.denied_by)}: the credentials' "
                f"own policy is not enough. {where[0].upper()}{where[1:]} The {self.denied_by} "
                f"must allow: {statement}"
            )
        lead = f"You are missing {self.action}{on}" + (
            "" if self.resource else " (AWS did not name the resource)"
        )
        return f"{lead}; {where} Add: {statement}"


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _where_text(entry: CatalogEntry | None) -> str:
    if entry is None:
        return (
            "batchforge's permission catalog does not list this action, so the seed's "
            "policy does not grant it."
        )
    features = ", ".join(entry.features) or "none"
    label = "features" if len(entry.features) > 1 else "feature"
    sid = entry.section.sid
    if entry.kind == "dependent":
        return (
            f"it is not in the seed's policy: AWS checks it as a dependent action of "
            f"{entry.dependent_of} (section {sid}, {label} {features})."
        )
    grade = "required" if entry.required else "optional"
    extra = ", beyond the seed's policy" if entry.kind == "extra" else ""
    return f"it is in section {sid}{extra} ({label} {features}, {grade})."


def parse_denial(message: str) -> tuple[str | None, str | None]:
    """(denied action, resource ARN) named by an AWS AccessDenied message, either may be None.

    When AWS says *why* (``because no identity-based policy allows the ec2:CreateTags
    action``) that action is the one to grant; the resource AWS named is the one it was
    checked on (the resource being created, for a dependent action such as tagging).
    """
    action = resource = None
    found = _PERFORM.search(message or "")
    if found:
        action = found.group("action")
        resource = _clean_resource(found.group("resource"))
    because = _BECAUSE_ACTION.search(message or "")
    if because and (action is None or because.group("action").lower() != action.lower()):
        action = because.group("action")  # the resource named is the one it is checked on
    return action, resource


def _clean_resource(resource: str | None) -> str | None:
    if not resource:
        return None
    resource = resource.rstrip(".,;")
    return resource if resource.startswith("arn:") or resource == "*" else None


def _scope_from(resource: str | None) -> Scope:
    """Account and region taken from a concrete ARN (anything unusable is left open)."""
    parts = (resource or "").split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return Scope()
    account = parts[4] if parts[4].isdigit() and len(parts[4]) == 12 else None
    region = parts[3] or None
    try:
        return Scope(account=account, region=region)
    except InvalidInput:
        return Scope(account=account)


def suggested_statement(
    action: str, resource: str | None, entry: CatalogEntry | None
) -> dict[str, Any]:
    """The statement to add: the catalog's resources for ``action`` in its section, narrowed
    to the account and region of ``resource``; just ``resource`` when the catalog does not
    know the action or its resources do not cover ``resource``."""
    if entry is None:
        return _statement("BatchforgeMissingPermission", action, [resource or "*"], None)
    scope = _scope_from(resource)
    if entry.kind != "dependent":
        resources = _section_resources(action, resource, entry, scope)
        return _statement(entry.section.sid, action, resources, entry.section.condition)
    resources = [resource] if resource else _dependent_resources(action, entry, scope)
    condition = None
    if action == "ec2:CreateTags" and entry.dependent_of:
        operation = entry.dependent_of.partition(":")[2]
        condition = {"StringEquals": {"ec2:CreateAction": operation}}
    return _statement("DependentActionsNotInSeed", action, resources, condition)


def _statement(
    sid: str, action: str, resources: list[str], condition: dict[str, Any] | None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": action,
        "Resource": resources[0] if len(resources) == 1 else resources,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _section_resources(
    action: str, resource: str | None, entry: CatalogEntry, scope: Scope
) -> list[str]:
    values = scope.values(least_privilege=True)
    templates: list[str] = []
    for need in entry.needs:
        templates.extend(t for t in need.touches or entry.section.touches if t not in templates)
    rendered = render_all(templates or list(entry.section.touches), values)
    try:
        resources = resources_for(action, rendered) or ["*"]
    except KeyError:
        resources = [resource or "*"]
    if resource and resource != "*" and not any(Glob.parse(r).matches(resource) for r in resources):
        resources = [resource]
    return resources


def _dependent_resources(action: str, entry: CatalogEntry, scope: Scope) -> list[str]:
    if entry.dependent_of is None:
        return ["*"]
    return dependent_resources(action, entry.dependent_of, scope) or ["*"]


def explain(service: str, operation: str, message: str) -> Explanation | None:
    """Explain an AccessDenied for the call ``service``/``operation`` (boto3 names)."""
    named, resource = parse_denial(message)
    action = canonical_action(named) if named else None
    if action is None:
        mapped = actions_for_call(service, operation)
        if not mapped:
            return None
        action = mapped[0]
        if named is None:
            resource = None
    entry = lookup_action(action, resource)
    explicit = _EXPLICIT.search(message or "")
    reason = explicit or _NOT_ALLOWED_BY.search(message or "")
    denied_by = reason.group("where").lower() if reason else None
    if denied_by and denied_by.endswith("policies"):
        denied_by = denied_by[: -len("policies")] + "policy"
    return Explanation(
        action=action,
        resource=resource,
        entry=entry,
        explicit_deny=explicit is not None,
        denied_by=denied_by,
        statement=suggested_statement(action, resource, entry),
    )


def access_denied_hint(service: str, operation: str, message: str) -> str | None:
    """The explainer hook: a hint, or None to keep the generic one.  Never raises."""
    try:
        found = explain(service, operation, message)
    except Exception:  # a hint must never turn an AWS error into a crash
        return None
    return found.text() if found else None


def install() -> None:
    """Register :func:`access_denied_hint` with the AWS layer (idempotent)."""
    from batchforge.aws.errors import set_access_denied_explainer

    set_access_denied_explainer(access_denied_hint)


__all__ = [
    "Explanation",
    "access_denied_hint",
    "explain",
    "install",
    "parse_denial",
    "suggested_statement",
]
