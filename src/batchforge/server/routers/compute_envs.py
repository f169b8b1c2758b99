"""``/compute-envs``: Seqera's compute environment API for platform ``aws-batch``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from batchforge.errors import NotFound
from batchforge.schemas.compute_envs import (
    CreateComputeEnvRequest,
    CreateComputeEnvResponse,
    DescribeComputeEnvResponse,
    ListComputeEnvsResponse,
    UpdateComputeEnvRequest,
    ValidateComputeEnvResponse,
)
from batchforge.server.deps import Ctx, query_attributes
from batchforge.services import compute_envs as service
from batchforge.services.authz import Permission, needs

router = APIRouter(prefix="/compute-envs", tags=["compute-envs"])

CanRead = Annotated[int, Depends(needs(Permission.COMPUTE_ENVIRONMENT_READ))]
CanWrite = Annotated[int, Depends(needs(Permission.COMPUTE_ENVIRONMENT_WRITE))]
CanDelete = Annotated[int, Depends(needs(Permission.COMPUTE_ENVIRONMENT_DELETE))]


def _wake_worker(request: Request) -> None:
    worker = getattr(request.app.state, "forge_worker", None)
    if worker is not None:
        worker.wake()


@router.get("", response_model=ListComputeEnvsResponse)
def list_compute_envs(
    ctx: Ctx, workspace_id: CanRead, status: str | None = None
) -> ListComputeEnvsResponse:
    return ListComputeEnvsResponse(computeEnvs=service.list_all(ctx, workspace_id, status))


@router.post("", response_model=CreateComputeEnvResponse)
def create_compute_env(
    request: Request, ctx: Ctx, workspace_id: CanWrite, body: CreateComputeEnvRequest
) -> CreateComputeEnvResponse:
    ce_id = service.create(ctx, workspace_id, body.computeEnv, body.labelIds)
    _wake_worker(request)
    return CreateComputeEnvResponse(computeEnvId=ce_id)


@router.get("/validate", status_code=204, response_class=Response)
def validate_name(ctx: Ctx, workspace_id: CanRead, name: str) -> Response:
    from batchforge.errors import InvalidInput
    from batchforge.services.compute_validation import NAME

    if not NAME.match(name):
        raise InvalidInput("name: use 1-100 letters, digits, '-' or '_'.", field="name")
    service.ensure_name_free(ctx, workspace_id, name)
    return Response(status_code=204)


@router.get("/{computeEnvId}", response_model=DescribeComputeEnvResponse)
def describe_compute_env(
    ctx: Ctx,
    workspace_id: CanRead,
    computeEnvId: str,
    attributes: Annotated[str | None, Query(description="labels,resources (comma list)")] = None,
) -> DescribeComputeEnvResponse:
    """The environment (labels always included); a recently deleted one answers with status
    DELETED (see ``services.compute_envs.describe_deleted``)."""
    query_attributes(attributes, {"labels", "resources"})
    try:
        env = service.describe(ctx, workspace_id, computeEnvId)
    except NotFound:
        env = service.describe_deleted(ctx, workspace_id, computeEnvId)
    return DescribeComputeEnvResponse(computeEnv=env)


@router.put("/{computeEnvId}", status_code=204, response_class=Response)
def update_compute_env(
    ctx: Ctx, workspace_id: CanWrite, computeEnvId: str, body: UpdateComputeEnvRequest
) -> Response:
    service.update_env(ctx, workspace_id, computeEnvId, body)
    return Response(status_code=204)


@router.delete("/{computeEnvId}", status_code=204, response_class=Response)
def delete_compute_env(
    request: Request,
    ctx: Ctx,
    workspace_id: CanDelete,
    computeEnvId: str,
    force: bool = False,
    preserveResources: bool | None = None,
) -> Response:
    service.delete(ctx, workspace_id, computeEnvId, force, preserveResources)
    _wake_worker(request)
    return Response(status_code=204)


@router.post("/{computeEnvId}/retry", status_code=204, response_class=Response)
def retry_compute_env(
    request: Request, ctx: Ctx, workspace_id: CanWrite, computeEnvId: str
) -> Response:
    """Try failed Forge work again now (batchforge's own action: Seqera has none)."""
    service.retry(ctx, workspace_id, computeEnvId)
    _wake_worker(request)
    return Response(status_code=204)


@router.post("/{computeEnvId}/disable", status_code=204, response_class=Response)
def disable_compute_env(ctx: Ctx, workspace_id: CanWrite, computeEnvId: str) -> Response:
    service.set_status(ctx, workspace_id, computeEnvId, "DISABLED")
    return Response(status_code=204)


@router.post("/{computeEnvId}/enable", status_code=204, response_class=Response)
def enable_compute_env(ctx: Ctx, workspace_id: CanWrite, computeEnvId: str) -> Response:
    service.set_status(ctx, workspace_id, computeEnvId, "AVAILABLE")
    return Response(status_code=204)


@router.post("/{computeEnvId}/primary", status_code=204, response_class=Response)
def make_primary(ctx: Ctx, workspace_id: CanWrite, computeEnvId: str) -> Response:
    service.make_primary(ctx, workspace_id, computeEnvId)
    return Response(status_code=204)


@router.post("/{computeEnvId}/validate", response_model=ValidateComputeEnvResponse)
def validate_compute_env(
    ctx: Ctx, workspace_id: CanWrite, computeEnvId: str, force: bool = False
) -> ValidateComputeEnvResponse:
    """Seqera's ValidateComputeEnv: ``{status, transientError, message}``, and the
    environment after the check (batchforge's ``computeEnv``)."""
    done = service.validate_env(ctx, workspace_id, computeEnvId, force)
    return ValidateComputeEnvResponse(
        status=done.status, transientError=done.transient, message=done.message, computeEnv=done.env
    )
