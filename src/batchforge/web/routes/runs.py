"""Runs: a list with a status filter that refreshes itself, and a run's page with its status,
times, the head job's log (tailed live), its files, and cancel."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from batchforge.errors import BatchforgeError
from batchforge.schemas.compute_envs import LabelDbDto
from batchforge.schemas.workflows import ACTIVE_STATUSES, DescribeWorkflowResponse
from batchforge.services import authz, labels, run_files, run_labels, run_rows, runs
from batchforge.services.authz import Permission
from batchforge.web import render, run_links, run_trace
from batchforge.web.core import (
    CheckedForm,
    Viewer,
    WebRoute,
    app_ctx,
    error_page,
    redirect_with,
    viewer_needs,
)

# Bytes from a bucket must never run as a page of this origin.
RAW_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}
router = APIRouter(prefix="/ui/runs", route_class=WebRoute, include_in_schema=False)

CanRead = Annotated[Viewer, Depends(viewer_needs(Permission.WORKFLOW_READ))]
CanCancel = Annotated[Viewer, Depends(viewer_needs(Permission.WORKFLOW_WRITE))]
CanLabel = Annotated[Viewer, Depends(viewer_needs(Permission.WORKFLOW_LABEL_WRITE))]

FIRST_LOG_LINES = 500
LOG_PAGE_LINES = 1000


def _listing(
    request: Request, viewer: Viewer, status: str | None, search: str | None, after: str | None
) -> dict[str, Any]:
    chosen = (status or "").upper() or None
    found = runs.list_runs(
        app_ctx(request),
        viewer.workspace_id,
        status=chosen,
        search=search or None,
        after=after or None,
        max_results=25,
    )
    query = {k: v for k, v in (("status", chosen), ("search", search)) if v}
    return {
        "items": found.workflows,
        "next": found.next,
        "filter_status": chosen or "",
        "search": search or "",
        "query": urlencode(query),
        "after": after or "",
        "statuses": runs.STATUSES,
        "live": not after,
        "busy": any(item.workflow.status in ACTIVE_STATUSES for item in found.workflows),
    }


@router.get("")
def list_runs(
    request: Request,
    viewer: CanRead,
    status: str | None = None,
    search: str | None = None,
    after: str | None = None,
) -> Response:
    data = _listing(request, viewer, status, search, after)
    return render.page(request, "runs.html", title="Runs", section="runs", **data)


@router.get("/rows")
def rows(
    request: Request,
    viewer: CanRead,
    status: str | None = None,
    search: str | None = None,
) -> Response:
    """The run table, refreshed by the page's script."""
    return render.fragment("_runs_table.html", **_listing(request, viewer, status, search, None))


def _describe(request: Request, viewer: Viewer, run_id: str) -> DescribeWorkflowResponse:
    return runs.describe(app_ctx(request), viewer.workspace_id, run_id)


def _status_data(request: Request, viewer: Viewer, run: DescribeWorkflowResponse) -> dict[str, Any]:
    """What the live status part shows: status, times, and -- once the run has ended (the
    head job writes its files last) -- the run's files (one S3 listing)."""
    ctx, wf = app_ctx(request), run.workflow
    active = wf.status in ACTIVE_STATUSES
    listed, problem = None, None
    if not active and run.platform is not None:  # a run reported from elsewhere has no files here
        try:
            listed = run_files.list_files(ctx, viewer.workspace_id, wf.id).files
        except BatchforgeError as error:
            problem = error.message
    return {
        "run": run,
        "wf": wf,
        "active": active,
        "files": listed,
        "files_problem": problem,
        "folder": run_links.folder_of(ctx, viewer.workspace_id, wf),
        "quote": quote,
        "elsewhere": run.platform is None,
    }


@router.get("/{run_id}")
def show_run(
    request: Request,
    run_id: str,
    viewer: CanRead,
    query: run_trace.Tasks,
) -> Response:
    """The run's page; ``search``, ``sort``, ``dir`` and ``offset`` choose the task table's
    page (see :mod:`batchforge.web.routes.run_trace`)."""
    ctx = app_ctx(request)
    run = _describe(request, viewer, run_id)
    if run_rows.is_broken(run.workflow):  # its row cannot be read: say so, and how to delete
        message = run.workflow.errorMessage or ""
        return error_page(request, 200, "This run could not be read", message)
    log, log_error = None, None
    if run.platform is not None:  # a run reported from elsewhere has no head job here
        try:
            log = runs.log_page(ctx, viewer.workspace_id, run_id, None, FIRST_LOG_LINES)
        except BatchforgeError as problem:
            log_error = problem.message
    return render.page(
        request,
        "run.html",
        title=run.workflow.runName,
        section="runs",
        **_status_data(request, viewer, run),
        log=log,
        log_error=log_error,
        # Follow the log while the run is active, or to fetch the rest of a long one.
        log_more=log is not None and (log.pending or len(log.entries) >= FIRST_LOG_LINES),
        **run_trace.page_data(ctx, viewer.workspace_id, run, query),
        **_label_data(request, viewer, run),
    )


def _label_data(request: Request, viewer: Viewer, run: DescribeWorkflowResponse) -> dict[str, Any]:
    """The run's labels and, for a viewer who may change them, the workspace's plain labels it
    does not carry yet (resource labels stay as launched: services/run_labels.py)."""
    carried: list[LabelDbDto] = list(run.labels or [])
    can_label = authz.holds(viewer.principal, viewer.workspace_id, Permission.WORKFLOW_LABEL_WRITE)
    choices: list[LabelDbDto] = []
    if can_label:
        present = {label.id for label in carried}
        choices = [
            label
            for label in labels.list_all(app_ctx(request), viewer.workspace_id)
            if not label.resource and label.id not in present
        ]
    return {"labels": carried, "can_label": can_label, "label_choices": choices}


@router.get("/{run_id}/status")
def run_status(request: Request, run_id: str, viewer: CanRead) -> Response:
    run = _describe(request, viewer, run_id)
    return render.fragment(
        "_run_status.html", csrf_token=viewer.csrf, **_status_data(request, viewer, run)
    )


@router.get("/{run_id}/files/{file_name}")
def download_file(request: Request, run_id: str, file_name: str, viewer: CanRead) -> Response:
    """A file of the run's folder (the Nextflow log...), as an attachment."""
    opened = run_files.open_file(app_ctx(request), viewer.workspace_id, run_id, file_name)
    return StreamingResponse(
        opened.chunks, status_code=opened.status, headers={**opened.headers, **RAW_HEADERS}
    )


@router.get("/{run_id}/log")
def run_log(request: Request, run_id: str, viewer: CanRead, next: str | None = None) -> Response:
    """The next lines of the head job's log: ``{lines, next, pending, message}``."""
    page = runs.log_page(app_ctx(request), viewer.workspace_id, run_id, next, LOG_PAGE_LINES)
    body = {
        "lines": page.entries,
        "next": page.forwardToken,
        "pending": page.pending,
        "message": page.message,
    }
    return JSONResponse(body, headers=render.PAGE_HEADERS)


@router.post("/{run_id}/cancel")
def cancel_run(request: Request, run_id: str, viewer: CanCancel, form: CheckedForm) -> Response:
    try:
        outcome = runs.cancel(app_ctx(request), viewer.workspace_id, run_id)
    except BatchforgeError as problem:
        return redirect_with(request, f"/ui/runs/{run_id}", problem.message, "error")
    text = "Run cancelled." if outcome == "CANCELLED" else f"The run had already ended ({outcome})."
    return redirect_with(request, f"/ui/runs/{run_id}", text, "info")


def _change_labels(request: Request, viewer: Viewer, run_id: str, form: Any, how: str) -> Response:
    """Add or remove the form's ``labelId`` on the run; back to the run's page with a notice."""
    back = f"/ui/runs/{run_id}"
    try:
        label_id = int(str(form.get("labelId") or ""))
    except ValueError:
        return redirect_with(request, back, "Choose a label.", "error")
    try:
        run_labels.change(app_ctx(request), viewer.workspace_id, [run_id], [label_id], how)
    except BatchforgeError as problem:
        return redirect_with(request, back, problem.message, "error")
    text = "Label added." if how == "add" else "Label removed."
    return redirect_with(request, back, text)


@router.post("/{run_id}/labels/add")
def add_label(request: Request, run_id: str, viewer: CanLabel, form: CheckedForm) -> Response:
    """Add one of the workspace's plain labels to the run."""
    return _change_labels(request, viewer, run_id, form, "add")


@router.post("/{run_id}/labels/remove")
def remove_label(request: Request, run_id: str, viewer: CanLabel, form: CheckedForm) -> Response:
    """Remove a plain label from the run (the service refuses a resource label)."""
    return _change_labels(request, viewer, run_id, form, "remove")
