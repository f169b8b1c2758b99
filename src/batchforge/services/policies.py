"""The ``/policy`` use cases: generate, check (offline) and preflight (live), from API shapes.

Bad input (unknown feature, malformed scope) raises :class:`~batchforge.errors.InvalidInput`
naming the field; a malformed *policy* is not an error but the check's report.
"""

from __future__ import annotations

from typing import Any

from batchforge.iam.catalog_model import resolve_features
from batchforge.iam.scope import Scope
from batchforge.schemas.policy import (
    CheckPolicyRequest,
    FeaturesIn,
    GeneratePolicyRequest,
    PolicyScopeIn,
    PreflightRequest,
)
from batchforge.services import permissions
from batchforge.services.context import AppContext


def scope_of(body: PolicyScopeIn, *, region: bool = True) -> Scope:
    """The :class:`Scope` of a request (``region`` False: the region is not a scope field)."""
    return Scope(
        account=body.account or None,
        region=(body.region or None) if region else None,
        prefix=body.prefix,
        secrets_prefix=body.secretsPrefix,
        work_dir=body.workDir or None,
        data_buckets=tuple(body.dataBuckets),
        tags=tuple(body.tags.items()),
        queues=tuple(body.queues),
        log_group=body.logGroup,
    )


def features_of(body: FeaturesIn) -> tuple[str, ...]:
    return resolve_features(body.features, mode=body.mode, exclude=body.exclude)


def generate(body: GeneratePolicyRequest) -> dict[str, Any]:
    """``{policies, notes, sizes, layout, features, split}``."""
    from batchforge.iam.generator import generate_policy

    result = generate_policy(
        features_of(body),
        scope_of(body),
        least_privilege=body.leastPrivilege,
        dependents=body.dependents,
        extras=body.extras,
        split=body.split,
    )
    return result.to_dict()


def check(body: CheckPolicyRequest) -> dict[str, Any]:
    """The checker's report: ``ok``, findings with line and column, per-permission results."""
    from batchforge.iam.checker import check_policy

    report = check_policy(body.policy, features_of(body), scope_of(body))
    out = report.to_dict()
    out["exitCode"] = report.exit_code
    return out


def preflight(ctx: AppContext, workspace_id: int, body: PreflightRequest) -> dict[str, Any]:
    """The live check's report for stored credentials."""
    report = permissions.preflight(
        ctx,
        workspace_id,
        body.credentialsId,
        features_of(body),
        body.region,
        scope_of(body, region=False),
    )
    return report.to_dict()


def for_compute_env(ctx: AppContext, config: Any, account: str | None = None) -> dict[str, Any]:
    """The least-privilege policy a compute environment with ``config`` (an AwsBatchConfig)
    needs: its features, scoped to its region, work dir, queues and the Forge prefix."""
    from batchforge.iam.generator import generate_policy
    from batchforge.services.compute_envs import features_for

    work_dir = config.workDir if (config.workDir or "").startswith("s3://") else None
    queues = tuple(q for q in (config.headQueue, config.computeQueue) if q and "/" not in q)
    scope = Scope(
        account=account,
        region=config.region,
        prefix=ctx.settings.forge_prefix,
        work_dir=work_dir,
        queues=queues if config.forge is None else (),
    )
    return generate_policy(features_for(config), scope).to_dict()
