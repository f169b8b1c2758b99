"""The run page's trace parts: progress and processes, the task table, the metrics (each also
a fragment the page's script refreshes while the run is active), and a task's page with its
log and files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from batchforge.schemas.workflows import ACTIVE_STATUSES
from batchforge.services import runs, task_files
from batchforge.services.authz import Permission
from batchforge.web import render
from batchforge.web import run_trace as view
from batchforge.web.core import Viewer, WebRoute, app_ctx, viewer_needs
from batchforge.web.routes.runs import RAW_HEADERS

router = APIRouter(prefix="/ui/runs", route_class=WebRoute, include_in_schema=False)

CanRead = Annotated[Viewer, Depends(viewer_needs(Permission.WORKFLOW_READ))]

FIRST_LOG_LINES = 500
LOG_PAGE_LINES = 1000


def _run(request: Request, viewer: Viewer, run_id: str) -> dict[str, Any]:
    run = runs.describe(app_ctx(request), viewer.workspace_id, run_id)
    return {"run": run, "wf": run.workflow, "active": run.workflow.status in ACTIVE_STATUSES}


@router.get("/{run_id}/progress")
def progress_fragment(request: Request, run_id: str, viewer: CanRead) -> Response:
    run = _run(request, viewer, run_id)
    progress = view.progress_for(app_ctx(request), viewer.workspace_id, run["run"])
    return render.fragment("_run_progress.html", progress=progress, **run)


@router.get("/{run_id}/tasks")
def tasks_fragment(
    request: Request,
    run_id: str,
    viewer: CanRead,
    query: view.Tasks,
) -> Response:
    run = _run(request, viewer, run_id)
    table, error = view.attempt(
        view.tasks_data, app_ctx(request), viewer.workspace_id, run_id, query
    )
    return render.fragment("_run_tasks.html", tq=query, table=table, tasks_error=error, **run)


@router.get("/{run_id}/metrics")
def metrics_fragment(request: Request, run_id: str, viewer: CanRead) -> Response:
    run = _run(request, viewer, run_id)
    metrics, error = view.attempt(view.metrics_data, app_ctx(request), viewer.workspace_id, run_id)
    return render.fragment("_run_metrics.html", metrics=metrics, metrics_error=error, **run)


@router.get("/{run_id}/tasks/{task_id}")
def task_page(request: Request, run_id: str, task_id: int, viewer: CanRead) -> Response:
    ctx, ws = app_ctx(request), viewer.workspace_id
    run = _run(request, viewer, run_id)
    detail = view.task_detail(ctx, ws, run_id, task_id)
    log, log_error = None, None
    if run["run"].platform is not None:  # a run reported from elsewhere: no AWS access here
        log, log_error = view.attempt(
            task_files.log_page, ctx, ws, run_id, task_id, None, FIRST_LOG_LINES
        )
    return render.page(
        request,
        "run_task.html",
        title=f"Task {task_id} of {run['wf'].runName}",
        section="runs",
        **run,
        **detail,
        log=log,
        log_error=log_error,
        log_more=log is not None and (log.pending or len(log.entries) >= FIRST_LOG_LINES),
        task_files=task_files.TASK_FILES,
    )


@router.get("/{run_id}/tasks/{task_id}/log")
def task_log(
    request: Request, run_id: str, task_id: int, viewer: CanRead, next: str | None = None
) -> Response:
    """The next lines of a task's log: ``{lines, next, pending, message}``."""
    page = task_files.log_page(
        app_ctx(request), viewer.workspace_id, run_id, task_id, next, LOG_PAGE_LINES
    )
    body = {
        "lines": page.entries,
        "next": page.forwardToken,
        "pending": page.pending,
        "message": page.message,
    }
    return JSONResponse(body, headers=render.PAGE_HEADERS)


@router.get("/{run_id}/tasks/{task_id}/files/{file_name}")
def task_file(
    request: Request, run_id: str, task_id: int, file_name: str, viewer: CanRead
) -> Response:
    """A file of the task's work directory (``.command.out``…), as an attachment."""
    opened = task_files.open_file(app_ctx(request), viewer.workspace_id, run_id, task_id, file_name)
    return StreamingResponse(
        opened.chunks, status_code=opened.status, headers={**opened.headers, **RAW_HEADERS}
    )
