"""``/workflow``: Seqera's workflow (run) API — launch, list, describe, cancel, delete, log,
run files (download, and batchforge's listing)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse

from batchforge.explorer.content import SAFE_HEADERS, parse_range
from batchforge.schemas.run_files import ListRunFilesResponse
from batchforge.schemas.workflows import (
    DescribeWorkflowLaunchResponse,
    DescribeWorkflowResponse,
    ListWorkflowsResponse,
    SubmitWorkflowLaunchRequest,
    SubmitWorkflowLaunchResponse,
    WorkflowLogResponse,
)
from batchforge.server.deps import Ctx, CurrentPrincipal, WorkspaceId
from batchforge.services import launches, run_files, runs

router = APIRouter(prefix="/workflow", tags=["workflows"])


def wake_tracker(request: Request) -> None:
    tracker = getattr(request.app.state, "run_tracker", None)
    if tracker is not None:
        tracker.wake()


@router.get("", response_model=ListWorkflowsResponse)
def list_workflows(
    ctx: Ctx,
    workspace_id: WorkspaceId,
    max: int = 50,
    offset: int = 0,
    search: str | None = None,
    status: str | None = None,
    after: str | None = None,
    includeTotalSize: bool = False,
) -> ListWorkflowsResponse:
    return runs.list_runs(
        ctx,
        workspace_id,
        status=status,
        search=search,
        max_results=max,
        offset=offset,
        after=after,
        include_total=includeTotalSize,
    )


@router.post("/launch", response_model=SubmitWorkflowLaunchResponse)
def launch_workflow(
    request: Request,
    ctx: Ctx,
    principal: CurrentPrincipal,
    workspace_id: WorkspaceId,
    body: SubmitWorkflowLaunchRequest,
) -> SubmitWorkflowLaunchResponse:
    run_id = launches.launch(
        ctx, workspace_id, body.launch, user=principal.user_name, user_id=principal.user_id
    )
    wake_tracker(request)
    return SubmitWorkflowLaunchResponse(workflowId=run_id)


@router.get("/{workflowId}", response_model=DescribeWorkflowResponse)
def describe_workflow(
    ctx: Ctx, workspace_id: WorkspaceId, workflowId: str
) -> DescribeWorkflowResponse:
    return runs.describe(ctx, workspace_id, workflowId)


@router.get("/{workflowId}/launch", response_model=DescribeWorkflowLaunchResponse)
def describe_workflow_launch(
    ctx: Ctx, workspace_id: WorkspaceId, workflowId: str
) -> DescribeWorkflowLaunchResponse:
    """Seqera's DescribeWorkflowLaunch: the run's launch with its session, to post again."""
    return DescribeWorkflowLaunchResponse(
        launch=launches.describe_launch(ctx, workspace_id, workflowId)
    )


@router.delete("/{workflowId}", status_code=204, response_class=Response)
def delete_workflow(
    ctx: Ctx, workspace_id: WorkspaceId, workflowId: str, force: bool = False
) -> Response:
    runs.delete(ctx, workspace_id, workflowId, force)
    return Response(status_code=204)


@router.post("/{workflowId}/cancel", status_code=204, response_class=Response)
def cancel_workflow(
    ctx: Ctx, workspace_id: WorkspaceId, workflowId: str, force: bool = False
) -> Response:
    runs.cancel(ctx, workspace_id, workflowId, force)
    return Response(status_code=204)


@router.get("/{workflowId}/log", response_model=WorkflowLogResponse)
def workflow_log(
    ctx: Ctx,
    workspace_id: WorkspaceId,
    workflowId: str,
    next: str | None = None,
    maxLength: int | None = None,
) -> WorkflowLogResponse:
    """``maxLength`` caps the number of lines of the page (CloudWatch pages by events)."""
    return WorkflowLogResponse(log=runs.log_page(ctx, workspace_id, workflowId, next, maxLength))


@router.get("/{workflowId}/download", response_class=StreamingResponse)
def download_workflow_file(
    ctx: Ctx,
    workspace_id: WorkspaceId,
    workflowId: str,
    fileName: str | None = None,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> StreamingResponse:
    """Seqera's DownloadWorkflowLog: a file of the run's folder in its work directory
    (default: the Nextflow log, also named ``nf-<workflowId>.log``), streamed; HTTP Range
    supported (206 with Content-Range)."""
    opened = run_files.open_file(ctx, workspace_id, workflowId, fileName, parse_range(range_header))
    return StreamingResponse(
        opened.chunks, status_code=opened.status, headers={**opened.headers, **SAFE_HEADERS}
    )


@router.get("/{workflowId}/files", response_model=ListRunFilesResponse)
def list_workflow_files(
    ctx: Ctx, workspace_id: WorkspaceId, workflowId: str
) -> ListRunFilesResponse:
    """*Extension*: the files ``/download`` can serve for this run."""
    return run_files.list_files(ctx, workspace_id, workflowId)
