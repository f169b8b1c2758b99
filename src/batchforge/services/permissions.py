"""Live permission checks (preflight): may these credentials do what the features need?

Steps (:func:`check_session`):

1. ``sts:GetCallerIdentity`` -> the principal (an assumed-role session is mapped to its role);
2. ``iam:SimulatePrincipalPolicy`` for that principal, every needed action on a sample ARN of
   each resource pattern, with the request context batchforge sends (``iam:PassedToService``).
   It sees everything AWS evaluates (boundaries, SCPs).  It is an *extra* beyond the seed's
   policy: when it is denied or unavailable (the local emulator answers HTTP 500) the check
   goes on with step 3 -- it is tried once, on a client without retries;
3. read the principal's policies (inline, attached managed, and its groups' for a user) and
   evaluate them with batchforge's own evaluator.  Also extras: what cannot be read is named in
   the report's notes and the permissions it leaves undecided are ``unknown``.

Missing required permissions block; missing optional ones warn with the feature they limit.
No database transaction is open while AWS is called.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from batchforge.aws.recorder import AwsCall
from batchforge.aws.session import AwsClient, AwsSession
from batchforge.errors import AwsAccessDenied, AwsError
from batchforge.iam.catalog import Permission, dependent_permissions, required_permissions
from batchforge.iam.catalog_model import resolve_features
from batchforge.iam.evaluator import Decision, PolicyEvaluator
from batchforge.iam.live import (
    SIMULATOR_PAGE_SIZE,
    Check,
    PreflightReport,
    PrincipalRef,
    SimKey,
    Verdict,
    parse_principal,
    read_simulation,
    required_resource_tags,
    samples_for,
    simulation_batches,
    simulator_verdict,
)
from batchforge.iam.model import Policy
from batchforge.iam.parse import parse_policy
from batchforge.iam.scope import Scope
from batchforge.services import credentials
from batchforge.services.context import AppContext

SIMULATOR_ATTEMPTS = 1
"""The simulator is tried once: a 5xx (the emulator) must not cost botocore's retries."""
EXTRAS = "section OptionalExtraPolicyReading, an optional extra beyond the seed's policy"
LOCAL_LIMITS = (
    "Policies read are evaluated by batchforge: permissions boundaries, service control "
    "policies and session policies are not seen that way."
)


def preflight(
    ctx: AppContext,
    workspace_id: int,
    credentials_id: str,
    features: Iterable[str] = (),
    region: str | None = None,
    scope: Scope | None = None,
    *,
    mode: str | None = None,
) -> PreflightReport:
    """Check stored credentials live for ``features`` (or a ``mode``'s) in ``region``."""
    chosen = resolve_features(features, mode=mode)
    keys = credentials.stored_keys(ctx, workspace_id, credentials_id)
    aws = ctx.aws.session(keys.auth(), region or ctx.settings.default_region)
    return check_session(aws, chosen, scope)


@dataclass
class _Probe:
    """The AWS side of one check: counts the calls it makes, collects notes.

    With a call recorder the count is exact (retries and role assumptions included): every
    call recorded on this thread while the check runs.  Without one, calls are counted here.
    """

    aws: AwsSession
    notes: list[str] = field(default_factory=list)
    counted: int = 0
    recorded: int = 0
    required_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _thread: int = field(default_factory=threading.get_ident)

    def call(self, client: AwsClient, method: str, **kwargs: Any) -> dict[str, Any]:
        self.counted += 1
        return getattr(client, method)(**kwargs)  # type: ignore[no-any-return]

    def pages(self, client: AwsClient, method: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            for page in client.paginate(method, **kwargs):
                self.counted += 1
                yield page
        except Exception:
            self.counted += 1  # the failed request
            raise

    def listen(self, call: AwsCall) -> None:
        if threading.get_ident() == self._thread:
            self.recorded += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        recorder = self.aws.env.recorder
        if recorder is not None:
            recorder.listeners.append(self.listen)
        try:
            yield
        finally:
            if recorder is not None:
                recorder.listeners.remove(self.listen)

    @property
    def calls(self) -> int:
        return self.recorded if self.aws.env.recorder is not None else self.counted


def check_session(
    aws: AwsSession, features: Iterable[str] = (), scope: Scope | None = None
) -> PreflightReport:
    """Check the identity of ``aws`` (its region is the one checked) for ``features``.

    Used before creating a compute environment, with the session the creation will use.
    """
    chosen = resolve_features(features)
    probe = _Probe(aws)
    report = PreflightReport(None, chosen, scope or Scope(), aws.region)
    with probe.counting():
        _check(probe, report)
    report.notes, report.calls = probe.notes, probe.calls
    report.required_tags = probe.required_tags
    return report


def _check(probe: _Probe, report: PreflightReport) -> None:
    aws, chosen, scope = probe.aws, report.features, report.scope
    try:
        caller = probe.call(aws.client("sts"), "get_caller_identity")["Arn"]
    except AwsError as error:
        probe.notes.append(f"Could not identify the credentials: {error}")
        return
    principal = parse_principal(str(caller))
    scope = replace(scope, account=scope.account or principal.account or None, region=aws.region)
    report.principal, report.scope = principal, scope
    perms = required_permissions(chosen, scope) + dependent_permissions(chosen, scope)
    report.checks, report.method, report.principal = _decide(probe, principal, perms)


def _decide(
    probe: _Probe, principal: PrincipalRef, perms: list[Permission]
) -> tuple[list[Check], str, PrincipalRef]:
    samples = samples_for(perms, account=principal.account, region=probe.aws.region)
    if principal.kind == "root":
        probe.notes.append(
            "These are the account's root user credentials: everything is allowed. Use an "
            "IAM user or role with the generated policy instead."
        )
        checks = [
            Check(p, samples[p.resource], Verdict.ALLOWED, "root", "root user") for p in perms
        ]
        return checks, "root", principal
    simulated, principal = _simulate(probe, principal, perms, samples)
    checks: list[Check] = []
    remaining: list[Permission] = []
    for perm in perms:
        found = simulated.get((perm.action.lower(), samples[perm.resource], perm.context))
        if found is None:
            remaining.append(perm)
            continue
        decision, detail = found
        checks.append(
            Check(perm, samples[perm.resource], simulator_verdict(decision), "simulator", detail)
        )
    if remaining:
        checks.extend(_evaluate_read_policies(probe, principal, remaining, samples))
    order = {id(p): n for n, p in enumerate(perms)}
    checks.sort(key=lambda c: order[id(c.permission)])
    sources = {c.source for c in checks if c.verdict is not Verdict.UNKNOWN}
    method = "mixed" if len(sources) > 1 else next(iter(sources), "none")
    return checks, method, principal


# --- step 2: the policy simulator -----------------------------------------------------------


def _simulate(
    probe: _Probe, principal: PrincipalRef, perms: list[Permission], samples: dict[str, str]
) -> tuple[dict[SimKey, tuple[str, str]], PrincipalRef]:
    if principal.iam_arn is None:
        probe.notes.append(
            f"The caller {principal.caller_arn} is not an IAM user or role: it cannot be "
            "simulated, and its policies cannot be read."
        )
        return {}, principal
    env = replace(probe.aws.env, max_attempts=SIMULATOR_ATTEMPTS)
    iam = AwsSession(env, probe.aws.auth, probe.aws.region).client("iam")
    if probe.aws.auth.assume_role_arn:
        probe.counted += 1  # the new session assumes the role again
    out: dict[SimKey, tuple[str, str]] = {}
    for batch in simulation_batches(perms, samples):
        kwargs: dict[str, Any] = {
            "PolicySourceArn": principal.iam_arn,
            "ActionNames": list(batch.actions),
            "ResourceArns": list(batch.resources),
            "PaginationConfig": {"PageSize": SIMULATOR_PAGE_SIZE},
        }
        if batch.context:
            kwargs["ContextEntries"] = batch.context_entries()
        try:
            results = [
                r
                for page in probe.pages(iam, "simulate_principal_policy", **kwargs)
                for r in page.get("EvaluationResults", [])
            ]
        except Exception as error:  # any failure (even a malformed answer): no simulator
            if out:  # part simulated: what is left is decided by reading policies
                probe.notes.append(f"iam:SimulatePrincipalPolicy failed part way: {error}")
                return out, principal
            retry = _unsimulated(probe, principal, error)
            if retry is None:
                return out, principal
            return _simulate(probe, retry, perms, samples)
        out.update(read_simulation(batch, results))
    return out, principal


def _unsimulated(probe: _Probe, principal: PrincipalRef, error: Exception) -> PrincipalRef | None:
    """Note why the simulator cannot be used; a role with its real path when that is why."""
    if isinstance(error, AwsError) and error.aws_code == "NoSuchEntity":
        if principal.kind == "role" and principal.path is None:
            real = _role_path(probe, principal)
            if real is not None:
                return real
        probe.notes.append(f"iam:SimulatePrincipalPolicy does not know {principal.iam_arn}.")
    elif isinstance(error, AwsAccessDenied):
        probe.notes.append(
            f"iam:SimulatePrincipalPolicy is not granted ({EXTRAS}): reading the principal's "
            "policies instead."
        )
    else:
        what = error.aws_code if isinstance(error, AwsError) else type(error).__name__
        probe.notes.append(
            f"iam:SimulatePrincipalPolicy is unavailable here ({what}): reading the "
            "principal's policies instead."
        )
    return None


def _role_path(probe: _Probe, principal: PrincipalRef) -> PrincipalRef | None:
    """STS does not give a role's path: ask IAM (``iam:GetRole``) once."""
    try:
        role = probe.call(probe.aws.client("iam"), "get_role", RoleName=principal.name)["Role"]
    except AwsError as error:
        probe.notes.append(
            f"The role's path is unknown (STS does not report it) and iam:GetRole failed "
            f"({error.aws_code}): {principal.iam_arn} may not be its real ARN."
        )
        return None
    path = str(role.get("Path") or "/")
    return principal.with_path(path) if path != "/" else None


# --- step 3: reading and evaluating the principal's policies -------------------------------


@dataclass
class _Documents:
    """Policies read for a principal, and whether anything could not be read."""

    policies: list[Policy] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    complete: bool = True
    managed: dict[str, Any] = field(default_factory=dict)


def _evaluate_read_policies(
    probe: _Probe, principal: PrincipalRef, perms: list[Permission], samples: dict[str, str]
) -> list[Check]:
    docs = _read_policies(probe, principal)
    if docs is None or (not docs.policies and not docs.complete):
        return [
            Check(p, samples[p.resource], Verdict.UNKNOWN, "none", "could not be checked")
            for p in perms
        ]
    probe.notes.append(
        f"Read {len(docs.policies)} polic{'y' if len(docs.policies) == 1 else 'ies'}"
        f"{': ' + ', '.join(docs.labels) if docs.labels else ''}. {LOCAL_LIMITS}"
    )
    probe.required_tags = required_resource_tags(docs.policies)
    evaluator = PolicyEvaluator.for_policies(docs.policies)
    out = []
    for perm in perms:
        ev = evaluator.evaluate(perm.action, perm.resource, perm.context_dict)
        if ev.allowed:
            verdict = Verdict.ALLOWED
        elif ev.decision is Decision.EXPLICIT_DENY or docs.complete:
            verdict = Verdict.DENIED
        else:
            verdict = Verdict.UNKNOWN
        reason = (
            ev.reason
            if verdict is not Verdict.UNKNOWN
            else (f"not allowed by the policies read ({ev.reason}), but some could not be read")
        )
        out.append(Check(perm, samples[perm.resource], verdict, "policies", reason))
    return out


def _read_policies(probe: _Probe, principal: PrincipalRef) -> _Documents | None:
    iam = probe.aws.client("iam")
    docs = _Documents()
    if principal.kind == "user" and principal.name:
        _read_owner(probe, iam, docs, "user", "UserName", principal.name)
        groups = _listing(
            probe,
            docs,
            lambda: [
                g["GroupName"]
                for page in probe.pages(iam, "list_groups_for_user", UserName=principal.name)
                for g in page["Groups"]
            ],
            "iam:ListGroupsForUser",
            "the user's groups (and their policies)",
        )
        for group in groups or ():
            _read_owner(probe, iam, docs, "group", "GroupName", group)
        return docs
    if principal.kind == "role" and principal.name:
        _read_owner(probe, iam, docs, "role", "RoleName", principal.name)
        return docs
    return None


def _read_owner(
    probe: _Probe, iam: AwsClient, docs: _Documents, kind: str, key: str, name: str
) -> None:
    """Inline and attached managed policies of one user, group or role."""
    title = kind.capitalize()
    inline = _listing(
        probe,
        docs,
        lambda: [
            n
            for page in probe.pages(iam, f"list_{kind}_policies", **{key: name})
            for n in page["PolicyNames"]
        ],
        f"iam:List{title}Policies",
        f"the {kind} {name}'s inline policies",
    )
    for policy_name in inline or ():
        document = _listing(
            probe,
            docs,
            lambda p=policy_name: probe.call(
                iam, f"get_{kind}_policy", **{key: name, "PolicyName": p}
            )["PolicyDocument"],
            f"iam:Get{title}Policy",
            f"the {kind} {name}'s inline policy {policy_name}",
        )
        _add(probe, docs, document, f"{kind} {name} inline {policy_name}")
    attached = _listing(
        probe,
        docs,
        lambda: [
            a["PolicyArn"]
            for page in probe.pages(iam, f"list_attached_{kind}_policies", **{key: name})
            for a in page["AttachedPolicies"]
        ],
        f"iam:ListAttached{title}Policies",
        f"the {kind} {name}'s managed policies",
    )
    for arn in attached or ():
        if arn not in docs.managed:
            docs.managed[arn] = _managed(probe, iam, docs, arn)
            _add(probe, docs, docs.managed[arn], arn.rsplit("/", 1)[-1])


def _managed(probe: _Probe, iam: AwsClient, docs: _Documents, arn: str) -> Any:
    version = _listing(
        probe,
        docs,
        lambda: probe.call(iam, "get_policy", PolicyArn=arn)["Policy"]["DefaultVersionId"],
        "iam:GetPolicy",
        f"the managed policy {arn}",
    )
    if version is None:
        return None
    return _listing(
        probe,
        docs,
        lambda: probe.call(iam, "get_policy_version", PolicyArn=arn, VersionId=version)[
            "PolicyVersion"
        ]["Document"],
        "iam:GetPolicyVersion",
        f"the managed policy {arn}",
    )


def _listing(
    probe: _Probe, docs: _Documents, read: Callable[[], Any], action: str, what: str
) -> Any:
    """``read()``; on an AWS error, a note naming what could not be read, and None."""
    try:
        return read()
    except AwsAccessDenied:
        docs.complete = False
        probe.notes.append(f"Could not read {what}: {action} is not granted ({EXTRAS}).")
    except Exception as error:  # an unreadable answer must not fail the whole check
        docs.complete = False
        code = error.aws_code if isinstance(error, AwsError) else type(error).__name__
        probe.notes.append(f"Could not read {what}: {action} failed ({code}).")
    return None


def _add(probe: _Probe, docs: _Documents, document: Any, label: str) -> None:
    if document is None:
        return
    text = _document_text(document)
    parsed = parse_policy(text, validate_actions=False)
    if parsed.policy is None:
        docs.complete = False
        probe.notes.append(f"The policy {label} could not be parsed: it was left out.")
        return
    docs.policies.append(parsed.policy)
    docs.labels.append(label)


def _document_text(document: Any) -> str:
    """IAM returns policy documents URL-encoded; boto3 usually decodes them to a dict."""
    if isinstance(document, dict | list):
        return json.dumps(document)
    text = str(document)
    return text if text.lstrip().startswith(("{", "[")) else unquote(text)


__all__ = ["SIMULATOR_ATTEMPTS", "check_session", "preflight"]
