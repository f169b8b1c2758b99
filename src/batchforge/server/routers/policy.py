"""``/policy``: generate and check IAM policies, and check credentials live (batchforge
extensions; Seqera's API has no equivalent)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from batchforge.schemas.policy import (
    CheckPolicyRequest,
    ComputeEnvPolicyRequest,
    GeneratePolicyRequest,
    PreflightRequest,
)
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import policies as service
from batchforge.services.authz import Permission, needs

router = APIRouter(prefix="/policy", tags=["policy"])

# A live check uses a workspace's stored credentials, as their validation does.
CanCheckCredentials = Annotated[int, Depends(needs(Permission.CREDENTIALS_WRITE))]


@router.post("/generate")
def generate_policy(_: CurrentPrincipal, body: GeneratePolicyRequest) -> dict[str, Any]:
    """A least-privilege policy for the features and scope: ``{policies, notes, sizes, ...}``."""
    return service.generate(body)


@router.post("/check")
def check_policy(_: CurrentPrincipal, body: CheckPolicyRequest) -> dict[str, Any]:
    """Check a pasted policy offline; findings carry line and column."""
    return service.check(body)


@router.post("/preflight")
def preflight(
    ctx: Ctx, workspace_id: CanCheckCredentials, body: PreflightRequest
) -> dict[str, Any]:
    """Check stored credentials live: per permission allowed / denied / unknown."""
    return service.preflight(ctx, workspace_id, body)


@router.post("/compute-env")
def compute_env_policy(
    ctx: Ctx, _: CurrentPrincipal, body: ComputeEnvPolicyRequest
) -> dict[str, Any]:
    """The least-privilege policy a compute environment configuration needs."""
    return service.for_compute_env(ctx, body.config, body.account)
