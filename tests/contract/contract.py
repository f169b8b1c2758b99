"""The permission contract: every AWS call a flow makes must be allowed (a) by the seed's full
policy and (b) by the least-privilege policy batchforge generates for the feature that made it.

:func:`verify` returns one message per violation (deduplicated); an empty list means the flow
keeps the contract.  Messages name the call, the IAM request, why it is made, and the policy
that does not allow it -- they are what a failing test prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from batchforge.aws.recorder import AwsCall
from batchforge.iam.catalog import CatalogEntry, lookup_action
from batchforge.iam.evaluator import PolicyEvaluator
from batchforge.iam.generator import generate_policy
from batchforge.iam.parse import parse_policy
from batchforge.iam.requests import ASSUME_ROLE, CallContext, IamRequest, Unmapped, iam_requests
from batchforge.iam.scope import Scope
from tests.iam.seed import seed_full_policy_text


@dataclass(frozen=True)
class FlowScope:
    """What a flow configured: it narrows the least-privilege policy like a user would."""

    work_dir: str | None = None
    queues: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    """Role ARNs the flow's credentials assume (``sts:AssumeRole`` may target only those)."""


@dataclass
class Outcome:
    """Violations, plus what was checked (for the test's own assertions and for reports)."""

    violations: list[str] = field(default_factory=list)
    checked: list[tuple[str, IamRequest, tuple[str, ...]]] = field(default_factory=list)
    """(call name, request, features it was attributed to)."""

    def add(self, message: str) -> None:
        if message not in self.violations:
            self.violations.append(message)

    def actions(self) -> set[str]:
        return {r.action for _, r, _ in self.checked}


@lru_cache(maxsize=1)
def seed_evaluator() -> PolicyEvaluator:
    parsed = parse_policy(seed_full_policy_text())
    assert parsed.policy is not None, parsed.findings
    return PolicyEvaluator.for_policies([parsed.policy])


@lru_cache(maxsize=256)
def least_privilege_evaluator(feature: str, scope: Scope, extras: bool) -> PolicyEvaluator:
    generated = generate_policy([feature], scope, least_privilege=True, extras=extras)
    documents = [parse_policy(__import__("json").dumps(d)).policy for d in generated.documents]
    return PolicyEvaluator.for_policies([d for d in documents if d is not None])


def _allowed(evaluator: PolicyEvaluator, request: IamRequest) -> bool:
    return evaluator.evaluate(
        request.action, request.resource, dict(request.context), resource_is_pattern=False
    ).allowed


def _attribution(
    request: IamRequest, call_resources: list[str], features: tuple[str, ...]
) -> tuple[CatalogEntry | None, tuple[str, ...]]:
    """The request's catalog entry, and the flow's features it is made for: those of the
    entry, or for a dependent request (tags, PassRole) those of the call's own action."""
    entry = lookup_action(request.action, request.resource)
    owner = entry
    if request.parent is not None:
        owner = next(
            (e for r in call_resources if (e := lookup_action(request.parent, r))), None
        ) or lookup_action(request.parent)
    wanted = set(owner.features) if owner else set()
    return entry, tuple(f for f in features if f in wanted)


def verify(
    calls: Iterable[AwsCall],
    features: tuple[str, ...],
    scope: FlowScope,
    account: str,
) -> Outcome:
    """Check every call of a flow that declared ``features``."""
    calls = list(calls)
    ctx = CallContext.of(account, calls)
    outcome = Outcome()
    for call in calls:
        try:
            requests = iam_requests(call, ctx)
        except Unmapped as error:
            outcome.add(f"UNMAPPED {error}")
            continue
        own = [r.resource for r in requests if r.parent is None]
        lp_scope = Scope(
            account=account, region=call.region, work_dir=scope.work_dir, queues=scope.queues
        )
        for request in requests:
            _check(call, request, own, features, scope, lp_scope, outcome)
    return outcome


def _check(
    call: AwsCall,
    request: IamRequest,
    own: list[str],
    features: tuple[str, ...],
    scope: FlowScope,
    lp_scope: Scope,
    outcome: Outcome,
) -> None:
    where = f"{call.name} -> {request.label} ({request.why})"
    if request.action == ASSUME_ROLE:
        if request.resource not in scope.roles:
            outcome.add(f"STS {where}: not a role the flow's credentials name")
        outcome.checked.append((call.name, request, ()))
        return
    entry, made_by = _attribution(request, own, features)
    outcome.checked.append((call.name, request, made_by))
    if entry is None:
        outcome.add(
            f"NOT CATALOGUED {where}: batchforge's permission catalog has no section granting "
            f"{request.action} -- permission drift: add it to the catalog (or stop calling it)"
        )
        return
    if not made_by:
        outcome.add(
            f"FEATURE {where}: catalogued for features {', '.join(entry.features) or 'none'} "
            f"(section {entry.section.sid}), but the flow declares {', '.join(features) or 'none'}"
        )
        return
    extra = entry.kind == "extra"
    if not extra and not _allowed(seed_evaluator(), request):
        outcome.add(
            f"SEED {where}: the seed's full policy does not allow it "
            f"(catalog: section {entry.section.sid}, {entry.kind})"
        )
    if not any(_allowed(least_privilege_evaluator(f, lp_scope, extra), request) for f in made_by):
        outcome.add(
            f"LEAST-PRIVILEGE {where}: the policy generated for feature(s) {', '.join(made_by)} "
            f"with the flow's scope does not allow it (section {entry.section.sid})"
        )
