"""The live permission check (preflight), pure part: no AWS call here.

:mod:`batchforge.services.permissions` asks AWS who the credentials are and what they may do;
this module holds what can be decided without AWS:

* :func:`parse_principal` -- the IAM principal behind an STS caller ARN (an assumed-role
  session ``arn:aws:sts::ACCT:assumed-role/NAME/SESSION`` is the role
  ``arn:aws:iam::ACCT:role/NAME``; STS does not tell the role's *path*, so it is unknown);
* :func:`sample_arn` -- a concrete ARN standing for a resource pattern, for
  ``iam:SimulatePrincipalPolicy`` which takes ARNs, not patterns;
* :func:`simulation_batches` / :func:`read_simulation` -- how the permissions are grouped into
  simulator requests and how its answers are read back;
* :class:`Check` / :class:`PreflightReport` -- the verdict per permission (allowed / denied /
  unknown, with the catalog section), what blocks and what only warns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from batchforge.iam.catalog import Permission
from batchforge.iam.scope import Scope

SAMPLE_NAME = "batchforge-preflight"
"""Stands for the ``*`` of a resource pattern in the ARNs given to the simulator."""

_STS_ARN = re.compile(
    r"arn:(?P<partition>[\w-]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)"
)
_MAX_ACTIONS = 50
_MAX_RESOURCES = 20
SIMULATOR_PAGE_SIZE = 1000
"""Results per simulator page (AWS's maximum): a batch's pairs fit in one page."""
_MAX_LISTED = 4


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PrincipalRef:
    """The IAM principal behind a caller ARN.

    ``kind`` is ``user``, ``role`` (an assumed-role session), ``root``, ``federated`` or
    ``unknown``.  ``path`` is None when unknown (always, for roles seen through STS).
    """

    caller_arn: str
    account: str
    kind: str
    name: str | None = None
    path: str | None = None
    session: str | None = None
    partition: str = "aws"

    @property
    def iam_arn(self) -> str | None:
        """The ARN IAM knows the principal by (for roles: assuming the path ``/``)."""
        if self.kind == "user":
            return f"arn:{self.partition}:iam::{self.account}:user{self.path or '/'}{self.name}"
        if self.kind == "role":
            return f"arn:{self.partition}:iam::{self.account}:role{self.path or '/'}{self.name}"
        if self.kind == "root":
            return f"arn:{self.partition}:iam::{self.account}:root"
        return None

    def with_path(self, path: str) -> PrincipalRef:
        return PrincipalRef(
            self.caller_arn,
            self.account,
            self.kind,
            self.name,
            path,
            self.session,
            self.partition,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "callerArn": self.caller_arn,
            "arn": self.iam_arn,
            "account": self.account,
            "type": self.kind,
            "name": self.name,
            "pathKnown": self.path is not None,
            "session": self.session,
        }


def parse_principal(arn: str) -> PrincipalRef:
    """The principal behind ``arn`` as ``sts:GetCallerIdentity`` returns it."""
    found = _STS_ARN.fullmatch(arn.strip())
    if found is None:
        return PrincipalRef(arn, "", "unknown")
    partition, service, account, rest = found.group("partition", "service", "account", "rest")
    if service == "iam" and rest == "root":
        return PrincipalRef(arn, account, "root", partition=partition)
    kind, _, tail = rest.partition("/")
    if service == "iam" and kind == "user" and tail:
        path, _, name = ("/" + tail).rpartition("/")
        return PrincipalRef(arn, account, "user", name, path + "/", partition=partition)
    if service == "sts" and kind == "assumed-role" and "/" in tail:
        name, _, session = tail.partition("/")
        return PrincipalRef(arn, account, "role", name, None, session, partition)
    if service == "iam" and kind == "role" and tail:
        path, _, name = ("/" + tail).rpartition("/")
        return PrincipalRef(arn, account, "role", name, path + "/", partition=partition)
    if service == "sts" and kind == "federated-user":
        return PrincipalRef(arn, account, "federated", tail, partition=partition)
    return PrincipalRef(arn, account, "unknown", partition=partition)


def sample_arn(pattern: str, *, account: str, region: str) -> str:
    """A concrete ARN the ``pattern`` covers: ``*`` in the region and account fields become
    ``region``/``account`` (left empty where the pattern has them empty, as in S3 ARNs), and
    every ``*``/``?`` of the resource part a sample name.  ``*`` alone stays ``*``."""
    if pattern == "*" or not pattern.startswith("arn:"):
        return pattern
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return pattern.replace("*", SAMPLE_NAME).replace("?", "x")
    if parts[3] == "*":
        parts[3] = region
    if parts[4] == "*":
        parts[4] = account
    parts[5] = parts[5].replace("*", SAMPLE_NAME).replace("?", "x")
    return ":".join(parts)


def samples_for(permissions: Iterable[Permission], *, account: str, region: str) -> dict[str, str]:
    """Resource pattern -> sample ARN for every permission."""
    return {p.resource: sample_arn(p.resource, account=account, region=region) for p in permissions}


@dataclass(frozen=True)
class SimBatch:
    """One ``iam:SimulatePrincipalPolicy`` request: every action on every resource, with one
    request context.  Pairs nobody asked for are simulated too and ignored."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    context: tuple[tuple[str, str], ...]

    def context_entries(self) -> list[dict[str, Any]]:
        return [
            {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
            for key, value in self.context
        ]


def simulation_batches(
    permissions: Sequence[Permission], samples: dict[str, str]
) -> list[SimBatch]:
    """Group permissions into few simulator requests: by request context, and apart for the
    actions evaluated on ``*`` (no resource-level permissions); chunked so that no request
    asks for more than 50 actions on 25 resources."""
    groups: dict[tuple[tuple[tuple[str, str], ...], bool], tuple[list[str], list[str]]] = {}
    for perm in permissions:
        sample = samples[perm.resource]
        actions, resources = groups.setdefault((perm.context, sample == "*"), ([], []))
        if perm.action not in actions:
            actions.append(perm.action)
        if sample not in resources:
            resources.append(sample)
    out: list[SimBatch] = []
    for (context, _), (actions, resources) in groups.items():
        for a in range(0, len(actions), _MAX_ACTIONS):
            for r in range(0, len(resources), _MAX_RESOURCES):
                out.append(
                    SimBatch(
                        tuple(actions[a : a + _MAX_ACTIONS]),
                        tuple(resources[r : r + _MAX_RESOURCES]),
                        context,
                    )
                )
    return out


SimKey = tuple[str, str, tuple[tuple[str, str], ...]]
"""(action lower-cased, sample resource, context) of a simulated pair."""


def read_simulation(
    batch: SimBatch, results: Iterable[dict[str, Any]]
) -> dict[SimKey, tuple[str, str]]:
    """(decision, detail) per simulated pair, from the ``EvaluationResults`` of one batch.

    AWS answers one result per action and resource (``EvalResourceName``), and may detail
    per resource in ``ResourceSpecificResults``; both are read.
    """
    out: dict[SimKey, tuple[str, str]] = {}
    for result in results:
        action = str(result.get("EvalActionName", "")).lower()
        decision = str(result.get("EvalDecision", ""))
        resource = str(result.get("EvalResourceName") or "*")
        out[(action, resource, batch.context)] = (decision, _sim_detail(result, decision))
        for specific in result.get("ResourceSpecificResults") or ():
            name = str(specific.get("EvalResourceName") or "*")
            value = str(specific.get("EvalResourceDecision", decision))
            out[(action, name, batch.context)] = (value, _sim_detail(specific, value))
    return out


def _sim_detail(result: dict[str, Any], decision: str) -> str:
    if decision == "allowed":
        return "allowed by the IAM policy simulator"
    boundary = result.get("PermissionsBoundaryDecisionDetail") or {}
    organizations = result.get("OrganizationsDecisionDetail") or {}
    if organizations and not organizations.get("AllowedByOrganizations", True):
        return "denied by a service control policy (IAM policy simulator)"
    if boundary and not boundary.get("AllowedByPermissionsBoundary", True):
        return "denied by the permissions boundary (IAM policy simulator)"
    missing = result.get("MissingContextValues") or []
    extra = f"; context keys it could not resolve: {', '.join(missing)}" if missing else ""
    kind = "explicitly denied" if decision == "explicitDeny" else "not allowed"
    return f"{kind} (IAM policy simulator){extra}"


def simulator_verdict(decision: str) -> Verdict:
    return Verdict.ALLOWED if decision == "allowed" else Verdict.DENIED


@dataclass(frozen=True)
class Check:
    """The verdict for one catalog permission."""

    permission: Permission
    sample: str
    verdict: Verdict
    source: str
    """``simulator``, ``policies`` (read and evaluated locally), ``root`` or ``none``."""
    reason: str

    def to_dict(self) -> dict[str, Any]:
        out = self.permission.to_dict()
        out.update(
            sample=self.sample, verdict=self.verdict.value, source=self.source, reason=self.reason
        )
        return out


@dataclass
class PreflightReport:
    """Outcome of a live check: per permission, and what blocks or warns."""

    principal: PrincipalRef | None
    features: tuple[str, ...]
    scope: Scope
    region: str
    checks: list[Check] = field(default_factory=list)
    method: str = "none"
    """``simulator``, ``policies``, ``mixed`` (both) or ``none`` (nothing could be checked)."""
    notes: list[str] = field(default_factory=list)
    calls: int = 0
    """AWS calls the check made."""
    required_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Resource tags the principal's policies demand on Batch job resources (seen only when
    its policies were read): ``{tag key: allowed values}``."""

    def _select(self, verdict: Verdict, required: bool | None) -> list[Check]:
        return [
            c
            for c in self.checks
            if c.verdict is verdict and (required is None or c.permission.required is required)
        ]

    @property
    def missing_required(self) -> list[Check]:
        return self._select(Verdict.DENIED, True)

    @property
    def missing_optional(self) -> list[Check]:
        return self._select(Verdict.DENIED, False)

    @property
    def unknown(self) -> list[Check]:
        return self._select(Verdict.UNKNOWN, None)

    @property
    def ok(self) -> bool:
        """No required permission is known to be missing."""
        return self.principal is not None and not self.missing_required

    @property
    def complete(self) -> bool:
        """Every permission got a verdict."""
        return self.principal is not None and not self.unknown

    @property
    def blocking(self) -> list[str]:
        """One message per (feature, section) whose required permissions are missing."""
        return [_group_message(items, blocking=True) for items in _groups(self.missing_required)]

    @property
    def warnings(self) -> list[str]:
        """Missing optional permissions (with the feature they limit) and unchecked ones."""
        out = [_group_message(items, blocking=False) for items in _groups(self.missing_optional)]
        unknown = self.unknown
        if unknown:
            required = sum(c.permission.required for c in unknown)
            features = sorted({c.permission.feature for c in unknown})
            out.append(
                f"{len(unknown)} permission(s) could not be checked ({required} required), "
                f"for features {', '.join(features)}: see the notes for why."
            )
        return out

    def summary(self) -> dict[str, int]:
        return {
            "checked": len(self.checks),
            "allowed": len(self._select(Verdict.ALLOWED, None)),
            "requiredMissing": len(self.missing_required),
            "optionalMissing": len(self.missing_optional),
            "unknown": len(self.unknown),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "complete": self.complete,
            "principal": self.principal.to_dict() if self.principal else None,
            "region": self.region,
            "features": list(self.features),
            "scope": self.scope.to_dict(),
            "method": self.method,
            "awsCalls": self.calls,
            "summary": self.summary(),
            "blocking": self.blocking,
            "warnings": self.warnings,
            "notes": list(self.notes),
            "permissions": [c.to_dict() for c in self.checks],
        }

    def headline(self) -> str:
        if self.principal is None:
            return "UNCHECKED: the credentials' identity could not be read"
        if not self.ok:
            n = len(self.missing_required)
            return f"FAILED: {n} required permission{'s' if n != 1 else ''} missing"
        if not self.complete:
            return f"INCOMPLETE: {len(self.unknown)} permission(s) could not be checked"
        return "PASSED: every required permission is allowed"

    def render_text(self, *, verbose: bool = False) -> str:
        """Plain text for the CLI."""
        lines = [f"Preflight {self.headline()}"]
        if self.principal is not None:
            lines.append(f"Principal: {self.principal.caller_arn} ({self.principal.kind})")
        s = self.summary()
        lines += [
            f"Region:    {self.region}; features: {', '.join(self.features)}",
            f"Method:    {self.method}; {self.calls} AWS call(s)",
            f"Permissions: {s['allowed']} allowed, {s['requiredMissing']} required missing, "
            f"{s['optionalMissing']} optional missing, {s['unknown']} unknown",
        ]
        lines += [f"BLOCKING: {m}" for m in self.blocking]
        lines += [f"WARNING:  {m}" for m in self.warnings]
        lines += [f"Note:     {m}" for m in self.notes]
        if verbose:
            for c in self.checks:
                action, resource, context = c.permission.triple
                ctx = f" [{context}]" if context else ""
                lines.append(
                    f"{c.verdict.value:<8} {c.permission.feature:<13} {action} on {resource}{ctx}"
                    f" -- {c.reason}"
                )
        return "\n".join(lines)


def _groups(checks: list[Check]) -> list[list[Check]]:
    groups: dict[tuple[str, str, str, str | None], list[Check]] = {}
    for c in checks:
        p = c.permission
        groups.setdefault((p.feature, p.sid, p.kind, p.dependent_of), []).append(c)
    return list(groups.values())


def _group_message(items: list[Check], *, blocking: bool) -> str:
    first = items[0].permission
    listed = "; ".join(
        f"{c.permission.action} on {c.permission.resource}"
        + (f" [{c.permission.triple[2]}]" if c.permission.context else "")
        for c in items[:_MAX_LISTED]
    )
    if len(items) > _MAX_LISTED:
        listed += f"; and {len(items) - _MAX_LISTED} more"
    whys = "; ".join(sorted({c.permission.why for c in items}))
    if first.kind == "dependent":
        return (
            f"Feature '{first.feature}': {listed} not granted (a dependent action of "
            f"{first.dependent_of}, not in the seed's policy; AWS checks it only when the "
            f"request uses the option that needs it)."
        )
    if blocking:
        return (
            f"Feature '{first.feature}' needs {listed} (section {first.sid}): without it, {whys}."
        )
    return f"Feature '{first.feature}' is limited without {listed} (section {first.sid}): {whys}."


__all__ = [
    "SAMPLE_NAME",
    "SIMULATOR_PAGE_SIZE",
    "Check",
    "PreflightReport",
    "PrincipalRef",
    "SimBatch",
    "Verdict",
    "parse_principal",
    "read_simulation",
    "sample_arn",
    "samples_for",
    "simulation_batches",
    "simulator_verdict",
]


def required_resource_tags(policies: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    """Tags an Allow for ``batch:SubmitJob`` is conditioned on (``aws:ResourceTag/KEY``), as
    the seed's tag-restricted example does: a run's resources must carry them, so the compute
    environment needs resource labels with these keys and one of these values."""
    import fnmatch

    found: dict[str, tuple[str, ...]] = {}
    for policy in policies:
        for statement in policy.statements:
            actions = [a.lower() for a in statement.actions or ()]
            if statement.effect != "Allow" or not any(
                fnmatch.fnmatchcase("batch:submitjob", a) for a in actions
            ):
                continue
            for clause in statement.conditions:
                if clause.key.lower().startswith("aws:resourcetag/") and clause.operator in (
                    "StringEquals",
                    "StringLike",
                ):
                    found[clause.key.split("/", 1)[1]] = tuple(clause.values)
    return found
