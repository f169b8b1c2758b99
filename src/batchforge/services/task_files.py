"""A task's log (CloudWatch, through its Batch job) and its files (its work dir in S3).

- ``GET /workflow/{id}/log/{taskId}``: the task's ``nativeId`` is its AWS Batch job id; one
  DescribeJobs gives the job's ``logStreamName`` (the last attempt's), then one
  GetLogEvents page (:mod:`batchforge.runs.logs`).
- ``GET /workflow/{id}/download/{taskId}?fileName=``: ``.command.out``, ``.command.err`` or
  ``.command.log`` of the task's ``workdir``, streamed with one GetObject
  (``explorer.target.open_object``).  The work dir must lie inside the run's work
  directory: what a run reports never makes batchforge read elsewhere with the workspace's
  credentials.

Both use the run's credentials and region; a run launched elsewhere (no compute
environment) has none, so its task logs and files are not available here.  No database
transaction is open during an AWS call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from batchforge.aws.s3 import CLIENTS
from batchforge.db import models
from batchforge.errors import AwsError, InvalidInput, NotFound
from batchforge.explorer.target import Download, open_object
from batchforge.runs import logs as run_logs
from batchforge.schemas.workflows import LogPage
from batchforge.services import compute_envs, credentials, trace_read
from batchforge.services.context import AppContext

TASK_FILES = (".command.out", ".command.err", ".command.log")
NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True)
class _TaskPlace:
    run_id: str
    task_id: int
    workspace_id: int
    credentials_id: str
    region: str
    work_dir: str
    run_active: bool
    native_id: str | None
    task_workdir: str | None
    task_status: str


def _place(ctx: AppContext, workspace_id: int, run_id: str, task_id: int) -> _TaskPlace:
    task = trace_read.task_row(ctx, workspace_id, run_id, task_id)
    with ctx.db.transaction() as session:
        run = session.get(models.Run, run_id)
        assert run is not None
        if run.compute_env_id is None or not run.credentials_id:
            raise NotFound(
                f"Workflow '{run_id}' was launched outside batchforge: its task logs and "
                "files are where that Nextflow ran, and batchforge has no AWS access for it.",
                field="taskId",
            )
        place = _TaskPlace(
            run_id,
            task_id,
            workspace_id,
            run.credentials_id,
            run.region,
            run.work_dir,
            run.active,
            task.native_id,
            (task.data or {}).get("workdir"),
            task.status,
        )
    return place


def log_page(
    ctx: AppContext,
    workspace_id: int,
    run_id: str,
    task_id: int,
    next_token: str | None,
    max_lines: int | None,
) -> LogPage:
    """A page of the task's job log; ``pending`` while the task may still write."""
    place = _place(ctx, workspace_id, run_id, task_id)
    pending = place.run_active and place.task_status in ("NEW", "SUBMITTED", "RUNNING")
    if not place.native_id:
        return LogPage(pending=pending, message="The task has no AWS Batch job yet.")
    aws = compute_envs.aws_session(ctx, workspace_id, place.credentials_id, place.region)
    jobs = aws.client("batch").describe_jobs(jobs=[place.native_id]).get("jobs", [])
    stream = _stream_of(jobs[0]) if jobs else None
    if not stream:
        message = (
            f"AWS Batch no longer knows the task's job {place.native_id}."
            if not jobs
            else "The task's job has not started yet."
        )
        return LogPage(pending=pending and bool(jobs), forwardToken=next_token, message=message)
    page = run_logs.read_page(
        aws.client("logs"),
        run_logs.DEFAULT_LOG_GROUP,
        stream,
        next_token,
        max_lines or run_logs.MAX_EVENTS,
    )
    if not page.exists:
        return LogPage(
            pending=pending,
            forwardToken=next_token,
            message=f"The log stream {run_logs.DEFAULT_LOG_GROUP}/{stream} does not exist"
            + (" yet." if pending else "."),
        )
    return LogPage(entries=page.lines, forwardToken=page.token, pending=pending)


def _stream_of(job: dict[str, Any]) -> str | None:
    """The job's (latest attempt's) log stream: ``container.logStreamName``, else the last
    attempt's (DescribeJobs API reference: ``container`` describes the latest attempt)."""
    container = job.get("container") or {}
    if container.get("logStreamName"):
        return str(container["logStreamName"])
    attempts = job.get("attempts") or []
    last = (attempts[-1].get("container") or {}) if attempts else {}
    return str(last["logStreamName"]) if last.get("logStreamName") else None


def _inside(work_dir: str, task_dir: str) -> tuple[str, str] | None:
    """(bucket, key prefix) of the task's dir if it is an S3 folder inside ``work_dir``."""
    root = work_dir.rstrip("/") + "/"
    folder = task_dir.rstrip("/") + "/"
    if not root.startswith("s3://") or not folder.startswith(root) or "/../" in folder:
        return None
    bucket, _, prefix = folder.removeprefix("s3://").partition("/")
    return bucket, prefix


def open_file(
    ctx: AppContext,
    workspace_id: int,
    run_id: str,
    task_id: int,
    file_name: str | None,
    byte_range: str | None = None,
) -> Download:
    """Stream one of the task's files (:data:`TASK_FILES`, default ``.command.out``)."""
    name = file_name or ".command.out"
    if name not in TASK_FILES:
        raise InvalidInput(f"fileName: must be one of {', '.join(TASK_FILES)}.", field="fileName")
    place = _place(ctx, workspace_id, run_id, task_id)
    if not place.task_workdir:
        raise NotFound(f"Task {task_id} has reported no work directory yet.", field="taskId")
    where = _inside(place.work_dir, place.task_workdir)
    if where is None:
        raise NotFound(
            f"Task {task_id}'s work directory {place.task_workdir} is not inside the run's "
            f"S3 work directory {place.work_dir}; batchforge reads task files only there.",
            field="taskId",
        )
    bucket, prefix = where
    auth = credentials.stored_keys(ctx, workspace_id, place.credentials_id).auth()
    s3 = CLIENTS.client(ctx.aws, auth, place.region)
    try:
        return open_object(s3, bucket, prefix + name, byte_range, name)
    except AwsError as error:
        if error.aws_code in NOT_FOUND_CODES:
            raise NotFound(
                f"'{name}' of task {task_id} is not in s3://{bucket}/{prefix} "
                + ("yet." if place.task_status in ("NEW", "SUBMITTED", "RUNNING") else "."),
                field="fileName",
            ) from None
        raise
