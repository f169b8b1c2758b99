"""``/workflow``: Seqera's workflow (run) API — launch, list, describe, cancel, delete, log,
run files (download, and batchforge's listing)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from batchforge.explorer.content import SAFE_HEADERS, parse_range
from batchforge.schemas.run_files import ListRunFilesResponse
from batchforge.schemas.trace import (
    DescribeTaskResponse,
    GetProgressResponse,
    GetWorkflowMetricsResponse,
    ListTasksResponse,
)
from batchforge.schemas.workflows import (
    AssociateWorkflowLabelsRequest,
    DescribeWorkflowLaunchResponse,
    DescribeWorkflowResponse,
    ListWorkflowsResponse,
    SubmitWorkflowLaunchRequest,
    SubmitWorkflowLaunchResponse,
    WorkflowLogResponse,
)
from batchforge.server.deps import Ctx, CurrentPrincipal, query_attributes
from batchforge.services import launches, run_files, run_labels, runs, task_files, trace_read
from batchforge.services.authz import Permission, needs, needs_source

router = APIRouter(prefix="/workflow", tags=["workflows"])

CanRead = Annotated[int, Depends(needs(Permission.WORKFLOW_READ))]
CanLaunch = Annotated[int, Depends(needs(Permission.WORKFLOW_EXECUTE))]
CanReadLaunch = Annotated[int, Depends(needs(Permission.LAUNCH_READ))]
CanWrite = Annotated[int, Depends(needs(Permission.WORKFLOW_WRITE))]
CanDelete = Annotated[int, Depends(needs(Permission.WORKFLOW_DELETE))]
CanLabel = Annotated[int, Depends(needs(Permission.WORKFLOW_LABEL_WRITE))]


def wake_tracker(request: Request) -> None:
    tracker = getattr(request.app.state, "run_tracker", None)
    if tracker is not None:
        tracker.wake()


WORKFLOW_ATTRIBUTES = {"optimized", "labels", "messages", "minimal", "pipelineInfo"}
Attributes = Annotated[
    str | None, Query(description="labels,optimized,... (labels are always included)")
]


@router.get("", response_model=ListWorkflowsResponse)
def list_workflows(
    ctx: Ctx,
    workspace_id: CanRead,
    max: int = 50,
    offset: int = 0,
    search: Annotated[
        str | None,
        Query(
            description="Run name, pipeline or id; status:STATUS; label:NAME or "
            "label:NAME=VALUE (runs carrying that label)"
        ),
    ] = None,
    status: str | None = None,
    after: str | None = None,
    includeTotalSize: bool = False,
    attributes: Attributes = None,
) -> ListWorkflowsResponse:
    """Runs newest first, each with its labels."""
    query_attributes(attributes, WORKFLOW_ATTRIBUTES)
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
    workspace_id: CanLaunch,
    body: SubmitWorkflowLaunchRequest,
    source: Annotated[int | None, Depends(needs_source(Permission.LAUNCH_READ))] = None,
) -> SubmitWorkflowLaunchResponse:
    """Seqera's CreateWorkflowLaunch.  ``sourceWorkspaceId`` (as ``tw launch`` sends for a
    pipeline of a SHARED workspace): authorised by ``authz.require_source``; the launch runs
    here, on this workspace's compute environment, as any other (its ``pipelineSchemaId`` may
    name a schema of that workspace)."""
    run_id = launches.launch(
        ctx,
        workspace_id,
        body.launch,
        user=principal.user_name,
        user_id=principal.user_id,
        schema_workspace_id=source,
    )
    wake_tracker(request)
    return SubmitWorkflowLaunchResponse(workflowId=run_id)


def _labels_route(how: str) -> Any:
    def change(ctx: Ctx, workspace_id: CanLabel, body: AssociateWorkflowLabelsRequest) -> Response:
        run_labels.change(ctx, workspace_id, body.workflowIds, body.labelIds, how)
        return Response(status_code=204)

    change.__doc__ = (
        f"Seqera's /workflow/labels/{how}: {how} labels of many runs (a launched run's "
        "resource labels stay as launched: see services/run_labels.py)."
    )
    return change


for _how in run_labels.OPERATIONS:
    router.add_api_route(
        f"/labels/{_how}",
        _labels_route(_how),
        methods=["POST"],
        status_code=204,
        response_class=Response,
        name=f"workflow_labels_{_how}",
    )


@router.get("/{workflowId}", response_model=DescribeWorkflowResponse)
def describe_workflow(
    ctx: Ctx,
    workspace_id: CanRead,
    workflowId: str,
    attributes: Attributes = None,
) -> DescribeWorkflowResponse:
    query_attributes(attributes, WORKFLOW_ATTRIBUTES)
    return runs.describe(ctx, workspace_id, workflowId)


@router.get("/{workflowId}/launch", response_model=DescribeWorkflowLaunchResponse)
def describe_workflow_launch(
    ctx: Ctx, workspace_id: CanReadLaunch, workflowId: str
) -> DescribeWorkflowLaunchResponse:
    """Seqera's DescribeWorkflowLaunch: the run's launch with its session, to post again."""
    return DescribeWorkflowLaunchResponse(
        launch=launches.describe_launch(ctx, workspace_id, workflowId)
    )


@router.delete("/{workflowId}", status_code=204, response_class=Response)
def delete_workflow(
    ctx: Ctx, workspace_id: CanDelete, workflowId: str, force: bool = False
) -> Response:
    runs.delete(ctx, workspace_id, workflowId, force)
    return Response(status_code=204)


@router.post("/{workflowId}/cancel", status_code=204, response_class=Response)
def cancel_workflow(
    ctx: Ctx, workspace_id: CanWrite, workflowId: str, force: bool = False
) -> Response:
    trace_read.require_launched(ctx, workspace_id, workflowId, "cancel")
    runs.cancel(ctx, workspace_id, workflowId, force)
    return Response(status_code=204)


@router.get("/{workflowId}/log", response_model=WorkflowLogResponse)
def workflow_log(
    ctx: Ctx,
    workspace_id: CanRead,
    workflowId: str,
    next: str | None = None,
    maxLength: int | None = None,
) -> WorkflowLogResponse:
    """``maxLength`` caps the number of lines of the page (CloudWatch pages by events)."""
    trace_read.require_launched(ctx, workspace_id, workflowId, "head job log")
    return WorkflowLogResponse(log=runs.log_page(ctx, workspace_id, workflowId, next, maxLength))


@router.get("/{workflowId}/download", response_class=StreamingResponse)
def download_workflow_file(
    ctx: Ctx,
    workspace_id: CanRead,
    workflowId: str,
    fileName: str | None = None,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> StreamingResponse:
    """Seqera's DownloadWorkflowLog: a file of the run's folder in its work directory
    (default: the Nextflow log, also named ``nf-<workflowId>.log``), streamed; HTTP Range
    supported (206 with Content-Range)."""
    trace_read.require_launched(ctx, workspace_id, workflowId, "run files")
    opened = run_files.open_file(ctx, workspace_id, workflowId, fileName, parse_range(range_header))
    return StreamingResponse(
        opened.chunks, status_code=opened.status, headers={**opened.headers, **SAFE_HEADERS}
    )


@router.get("/{workflowId}/files", response_model=ListRunFilesResponse)
def list_workflow_files(ctx: Ctx, workspace_id: CanRead, workflowId: str) -> ListRunFilesResponse:
    """*Extension*: the files ``/download`` can serve for this run."""
    trace_read.require_launched(ctx, workspace_id, workflowId, "run files")
    return run_files.list_files(ctx, workspace_id, workflowId)


# --- /launch/{launchId}: Seqera's DescribeLaunch (a run's launch id is its id) ----------

launch_router = APIRouter(prefix="/launch", tags=["launch"])


@launch_router.get("/{launchId}", response_model=DescribeWorkflowLaunchResponse)
def describe_launch(
    ctx: Ctx, workspace_id: CanReadLaunch, launchId: str
) -> DescribeWorkflowLaunchResponse:
    """The launch of the run whose ``launchId`` this is (``tw runs dump`` reads it)."""
    return DescribeWorkflowLaunchResponse(
        launch=launches.describe_launch(ctx, workspace_id, launchId)
    )


# --- the trace: progress, tasks, metrics, task logs and files (services/trace_read.py) ------


@router.get(
    "/{workflowId}/progress", response_model=GetProgressResponse, response_model_exclude_none=True
)
def workflow_progress(ctx: Ctx, workspace_id: CanRead, workflowId: str) -> GetProgressResponse:
    """Task counts by status, per process and for the run (from the tasks received)."""
    return GetProgressResponse(progress=trace_read.progress(ctx, workspace_id, workflowId))


@router.get(
    "/{workflowId}/tasks", response_model=ListTasksResponse, response_model_exclude_none=True
)
def workflow_tasks(
    ctx: Ctx,
    workspace_id: CanRead,
    workflowId: str,
    max: int = 50,
    offset: int = 0,
    sortBy: str | None = None,
    sortDir: str | None = None,
    search: str | None = None,
) -> ListTasksResponse:
    """A page of the run's tasks (at most 100); ``sortBy`` a Task field, ``sortDir``
    asc|desc, ``search`` a substring of name/process/tag/hash, a native id or a status."""
    return trace_read.list_tasks(
        ctx,
        workspace_id,
        workflowId,
        max_results=max,
        offset=offset,
        sort_by=sortBy,
        sort_dir=sortDir,
        search=search,
    )


@router.get(
    "/{workflowId}/task/{taskId}",
    response_model=DescribeTaskResponse,
    response_model_exclude_none=True,
)
def workflow_task(
    ctx: Ctx, workspace_id: CanRead, workflowId: str, taskId: int
) -> DescribeTaskResponse:
    return DescribeTaskResponse(
        task=trace_read.describe_task(ctx, workspace_id, workflowId, taskId)
    )


@router.get(
    "/{workflowId}/metrics",
    response_model=GetWorkflowMetricsResponse,
    response_model_exclude_none=True,
)
def workflow_metrics(
    ctx: Ctx, workspace_id: CanRead, workflowId: str
) -> GetWorkflowMetricsResponse:
    """Per-process resource usage summaries (reported by Nextflow at the end of the run)."""
    return GetWorkflowMetricsResponse(metrics=trace_read.metrics(ctx, workspace_id, workflowId))


@router.get("/{workflowId}/log/{taskId}", response_model=WorkflowLogResponse)
def task_log(
    ctx: Ctx,
    workspace_id: CanRead,
    workflowId: str,
    taskId: int,
    next: str | None = None,
    maxLength: int | None = None,
) -> WorkflowLogResponse:
    """The task's AWS Batch job log (CloudWatch), paged like the run's log."""
    return WorkflowLogResponse(
        log=task_files.log_page(ctx, workspace_id, workflowId, taskId, next, maxLength)
    )


@router.get("/{workflowId}/download/{taskId}", response_class=StreamingResponse)
def download_task_file(
    ctx: Ctx,
    workspace_id: CanRead,
    workflowId: str,
    taskId: int,
    fileName: str | None = None,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> StreamingResponse:
    """``.command.out`` (default), ``.command.err`` or ``.command.log`` of the task's work
    directory, streamed; HTTP Range supported."""
    opened = task_files.open_file(
        ctx, workspace_id, workflowId, taskId, fileName, parse_range(range_header)
    )
    return StreamingResponse(
        opened.chunks, status_code=opened.status, headers={**opened.headers, **SAFE_HEADERS}
    )
