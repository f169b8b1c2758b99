"""``/pipelines``: saved launch configurations, and launching them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from batchforge.schemas.pipelines import (
    CreatePipelineRequest,
    CreatePipelineResponse,
    DescribeLaunchResponse,
    DescribePipelineResponse,
    ListPipelinesResponse,
    UpdatePipelineRequest,
    UpdatePipelineResponse,
)
from batchforge.schemas.workflows import SubmitWorkflowLaunchRequest, SubmitWorkflowLaunchResponse
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.server.routers.workflows import wake_tracker
from batchforge.services import pipelines as service
from batchforge.services.authz import Permission, needs

router = APIRouter(prefix="/pipelines", tags=["pipelines"])

CanRead = Annotated[int, Depends(needs(Permission.PIPELINE_READ))]
CanWrite = Annotated[int, Depends(needs(Permission.PIPELINE_WRITE))]
CanDelete = Annotated[int, Depends(needs(Permission.PIPELINE_DELETE))]
CanReadLaunch = Annotated[int, Depends(needs(Permission.LAUNCH_READ))]
CanLaunch = Annotated[int, Depends(needs(Permission.WORKFLOW_EXECUTE))]


@router.get("", response_model=ListPipelinesResponse)
def list_pipelines(
    ctx: Ctx, workspace_id: CanRead, max: int = 50, offset: int = 0, search: str | None = None
) -> ListPipelinesResponse:
    items, total = service.list_all(ctx, workspace_id, search, max, offset)
    return ListPipelinesResponse(pipelines=items, totalSize=total)


@router.post("", response_model=CreatePipelineResponse)
def create_pipeline(
    ctx: Ctx, principal: CurrentPrincipal, workspace_id: CanWrite, body: CreatePipelineRequest
) -> CreatePipelineResponse:
    return CreatePipelineResponse(
        pipeline=service.create(ctx, workspace_id, body, principal.user_name)
    )


@router.get("/{pipelineId}", response_model=DescribePipelineResponse)
def describe_pipeline(ctx: Ctx, workspace_id: CanRead, pipelineId: int) -> DescribePipelineResponse:
    return DescribePipelineResponse(pipeline=service.describe(ctx, workspace_id, pipelineId))


@router.put("/{pipelineId}", response_model=UpdatePipelineResponse)
def update_pipeline(
    ctx: Ctx, workspace_id: CanWrite, pipelineId: int, body: UpdatePipelineRequest
) -> UpdatePipelineResponse:
    return UpdatePipelineResponse(
        pipeline=service.update_pipeline(ctx, workspace_id, pipelineId, body)
    )


@router.delete("/{pipelineId}", status_code=204, response_class=Response)
def delete_pipeline(ctx: Ctx, workspace_id: CanDelete, pipelineId: int) -> Response:
    service.delete(ctx, workspace_id, pipelineId)
    return Response(status_code=204)


@router.get("/{pipelineId}/launch", response_model=DescribeLaunchResponse)
def describe_pipeline_launch(
    ctx: Ctx, workspace_id: CanReadLaunch, pipelineId: int
) -> DescribeLaunchResponse:
    return DescribeLaunchResponse(launch=service.describe_launch(ctx, workspace_id, pipelineId))


@router.post("/{pipelineId}/launch", response_model=SubmitWorkflowLaunchResponse)
def launch_pipeline(
    request: Request,
    ctx: Ctx,
    principal: CurrentPrincipal,
    workspace_id: CanLaunch,
    pipelineId: int,
    body: SubmitWorkflowLaunchRequest | None = None,
) -> SubmitWorkflowLaunchResponse:
    """batchforge extension: launch the saved pipeline; ``launch`` fields override it."""
    overrides = body.launch if body is not None else None
    run_id = service.launch(
        ctx, workspace_id, pipelineId, overrides, principal.user_name, principal.user_id
    )
    wake_tracker(request)
    return SubmitWorkflowLaunchResponse(workflowId=run_id)
