"""Run use cases: list (filter, keyset pages), describe, cancel, delete, logs."""

from __future__ import annotations

import base64
import shlex
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import AwsError, Conflict, InvalidInput, NotFound
from batchforge.runs import logs as run_logs
from batchforge.schemas.workflows import (
    ACTIVE_STATUSES,
    DescribeWorkflowResponse,
    JobInfoDto,
    ListWorkflowsElement,
    ListWorkflowsResponse,
    LogPage,
    WorkflowDbDto,
)
from batchforge.services import compute_envs, run_labels, run_rows, run_tasks, trace_read
from batchforge.services.context import AppContext

STATUSES = ("SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN")
CANCEL_REASON = "Cancelled in batchforge"
MAX_PAGE = 100


def _load(session: Any, workspace_id: int, run_id: str) -> models.Run:
    row = session.get(models.Run, run_id)
    if row is None or row.workspace_id != workspace_id or row.deleted:
        raise NotFound(f"Workflow '{run_id}' not found in this workspace.")
    return row


def _state(session: Any, workspace_id: int, run_id: str) -> Any:
    """The columns cancel and delete need, read without loading the whole row (so that a row
    that cannot be loaded can still be cancelled and deleted)."""
    row = session.execute(
        select(
            models.Run.workspace_id,
            models.Run.deleted,
            models.Run.active,
            models.Run.status,
            models.Run.job_id,
            models.Run.credentials_id,
            models.Run.region,
        ).where(models.Run.id == run_id)
    ).first()
    if row is None or row.workspace_id != workspace_id or row.deleted:
        raise NotFound(f"Workflow '{run_id}' not found in this workspace.")
    return row


def _duration(row: models.Run) -> int | None:
    traced = (row.trace_workflow or {}).get("duration")
    if isinstance(traced, int) and row.trace_state == "completed":
        return traced
    if row.start and row.complete:
        return int((row.complete - row.start).total_seconds() * 1000)
    return None


def _project_name(row: models.Run) -> str:
    traced = (row.trace_workflow or {}).get("projectName")
    if isinstance(traced, str) and traced:
        return traced
    return row.repository.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")


def to_dto(row: models.Run) -> WorkflowDbDto:
    launch = row.launch or {}
    traced = row.trace_workflow or {}
    extra = trace_read.workflow_fields(traced)
    return WorkflowDbDto(
        id=row.id,
        runName=row.run_name,
        sessionId=row.session_id,
        projectName=_project_name(row),
        repository=row.repository,
        revision=row.revision,
        commandLine=row.command_line or str(traced.get("commandLine") or ""),
        workDir=row.work_dir,
        userName=row.user_name,
        status=row.status,  # type: ignore[arg-type]
        submit=row.submit,
        start=row.start,
        complete=row.complete,
        dateCreated=row.submit,
        lastUpdated=row.updated_at,
        duration=_duration(row),
        exitStatus=row.exit_status,
        errorMessage=row.error_message,
        success=(row.status == "SUCCEEDED") if row.status not in ACTIVE_STATUSES else None,
        resume=row.resume,
        deleted=row.deleted,
        launchId=row.id,
        # The resolved config Nextflow reports beats the launch's text.
        configText=traced.get("configText") or launch.get("configText"),
        configProfiles=launch.get("configProfiles"),
        preRunScript=launch.get("preRunScript"),
        postRunScript=launch.get("postRunScript"),
        logFile=f"{row.work_dir.rstrip('/')}/batchforge/{row.id}/nextflow.log"
        if row.origin == "launch"
        else None,
        **extra,
    )


def _labels(ctx: AppContext, row: models.Run) -> list[Any]:
    """The labels the run carries (services/run_labels.py)."""
    return list(run_labels.of_runs(ctx, row.workspace_id, [row.id]).get(row.id, []))


def _cursor(row: models.Run | run_rows.BrokenRow) -> str:
    return base64.urlsafe_b64encode(f"{row.submit.isoformat()}|{row.id}".encode()).decode()


def _after(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, _, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), run_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("after: not a cursor returned by this API.", field="after") from None


def _search_words(search: str) -> list[str]:
    """The search text's words; double or single quotes keep spaces inside one word
    (``label:"my label"``).  Text whose quotes do not pair is split at spaces alone."""
    try:
        return shlex.split(search)
    except ValueError:
        return search.split()


def list_runs(
    ctx: AppContext,
    workspace_id: int,
    *,
    status: str | None = None,
    search: str | None = None,
    max_results: int = 50,
    offset: int = 0,
    after: str | None = None,
    include_total: bool = False,
) -> ListWorkflowsResponse:
    """Newest first.  ``after`` (the previous page's ``next``) pages by key; ``offset`` is
    accepted for Seqera clients.  ``search`` matches run name, pipeline or id; Seqera's
    ``status:<STATUS>`` inside the search text filters by status too, and ``label:NAME``
    (``label:NAME=VALUE``; ``label:"NAME WITH SPACES"``) keeps the runs carrying that label
    (each one given)."""
    with_labels: list[str] = []
    if search:
        words = []
        for word in _search_words(search):
            if word.lower().startswith("status:"):
                status = word.split(":", 1)[1]
            elif word.lower().startswith("label:"):
                with_labels.append(word.split(":", 1)[1])
            else:
                words.append(word)
        search = " ".join(words)
    if any(not text.strip() for text in with_labels):
        raise InvalidInput("search: label: needs a label name (label:NAME).", field="search")
    if status and status.upper() not in STATUSES:
        raise InvalidInput(f"status: must be one of {', '.join(STATUSES)}.", field="status")
    limit = max(1, min(max_results or 50, MAX_PAGE))
    conditions: list[Any] = [models.Run.workspace_id == workspace_id, models.Run.deleted.is_(False)]
    if status:
        conditions.append(models.Run.status == status.upper())
    conditions.extend(run_labels.search_condition(text) for text in with_labels)
    if search:
        pattern = f"%{search.lower()}%"
        conditions.append(
            or_(
                func.lower(models.Run.run_name).like(pattern),
                func.lower(models.Run.repository).like(pattern),
                models.Run.id == search,
            )
        )
    query = select(models.Run).where(*conditions)
    if after:
        stamp, run_id = _after(after)
        query = query.where(
            or_(models.Run.submit < stamp, and_(models.Run.submit == stamp, models.Run.id < run_id))
        )
    query = query.order_by(models.Run.submit.desc(), models.Run.id.desc())
    if offset and not after:
        query = query.offset(offset)
    rows = run_rows.rows(ctx, query.limit(limit + 1))
    total = None
    if include_total:
        with ctx.db.transaction() as session:
            total = session.scalar(select(func.count()).select_from(models.Run).where(*conditions))
    more = len(rows) > limit
    rows = rows[:limit]
    carried = run_labels.of_runs(ctx, workspace_id, [r.id for r in rows])
    return ListWorkflowsResponse(
        workflows=[_element(workspace_id, r, carried.get(r.id, [])) for r in rows],
        totalSize=total,
        hasMore=more,
        next=_cursor(rows[-1]) if more and rows else None,
    )


def _element(
    workspace_id: int, row: models.Run | run_rows.BrokenRow, carried: list[Any]
) -> ListWorkflowsElement:
    """A list element; a run whose row cannot be read or served is shown as broken."""

    def broken(dto: WorkflowDbDto) -> ListWorkflowsElement:
        return ListWorkflowsElement(workflow=dto, workspaceId=workspace_id)

    if isinstance(row, run_rows.BrokenRow):
        return broken(run_rows.broken_dto(row.id, row.submit, row.reason))
    return run_rows.shown(
        row.id,
        row.submit,
        lambda: ListWorkflowsElement(
            workflow=to_dto(row), workspaceId=workspace_id, labels=carried
        ),
        broken,
    )


def describe(ctx: AppContext, workspace_id: int, run_id: str) -> DescribeWorkflowResponse:
    """The run; one whose row cannot be read or served is described as broken."""
    loaded = run_rows.load(ctx, run_id)
    if isinstance(loaded, run_rows.BrokenRow):
        with ctx.db.transaction() as session:
            owner = session.scalar(
                select(models.Run.workspace_id).where(
                    models.Run.id == run_id, models.Run.deleted.is_(False)
                )
            )
        if owner != workspace_id:
            raise NotFound(f"Workflow '{run_id}' not found in this workspace.")
        return _broken_description(workspace_id, loaded.id, loaded.submit, loaded.reason)
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, run_id)
        progress = trace_read.progress_of(session, row)
    return run_rows.shown(
        row.id,
        row.submit,
        lambda: _description(ctx, workspace_id, row, progress),
        lambda dto: _broken_description(workspace_id, dto.id, dto.submit, ""),
    )


def _broken_description(
    workspace_id: int, run_id: str, submit: datetime | None, reason: str
) -> DescribeWorkflowResponse:
    dto = run_rows.broken_dto(run_id, submit, reason or "data that cannot be served")
    return DescribeWorkflowResponse(
        workflow=dto,
        workspaceId=workspace_id,
        jobInfo=JobInfoDto(),
        messages=[dto.errorMessage or ""],
    )


def _description(
    ctx: AppContext, workspace_id: int, row: models.Run, progress: Any
) -> DescribeWorkflowResponse:
    params = None
    launch = row.launch or {}
    if launch.get("paramsText"):
        from batchforge.launch.params import parse_params

        params = parse_params(launch["paramsText"])
    elif isinstance((row.trace_workflow or {}).get("params"), dict):
        params = row.trace_workflow["params"]  # type: ignore[index]
    workflow = to_dto(row).model_copy(update={"params": params})
    job = JobInfoDto(
        operationId=row.job_id,
        status=(row.batch_state or "").split("|", 1)[0] or None,
        message=row.error_message,
        exitCode=row.exit_status,
    )
    from batchforge.services import run_health  # stale, tasks that cannot be placed, cost

    with ctx.db.transaction() as session:
        health = run_health.description(session, row.id)
    messages = [row.error_message] if row.error_message else []
    return DescribeWorkflowResponse(
        workflow=workflow,
        workspaceId=workspace_id,
        jobInfo=job,
        labels=_labels(ctx, row),
        platform={"id": "aws-batch", "name": "AWS Batch"} if row.compute_env_id else None,
        messages=messages + health.pop("messages"),
        progress=progress,
        **health,
    )


def cancel(ctx: AppContext, workspace_id: int, run_id: str, force: bool = False) -> str:
    """Terminate the head job and every task job of the run still alive, and mark the run
    CANCELLED; idempotent.  A finished run keeps its status.  ``force`` cancels in
    batchforge even if AWS refuses to terminate the head job.

    The task jobs (``tw-<runId>-*`` on the compute queue, see :mod:`batchforge.runs.tasks`)
    are listed with ``batch:ListJobs``; without that permission the head job is still
    terminated and the run's messages say the tasks could not be listed.  The run's messages
    say how many task jobs were terminated; the tracker lists them once more a little later
    (``tasks_state="recheck"``) for a task submitted while the head job was stopping."""
    with ctx.db.transaction() as session:
        row = _state(session, workspace_id, run_id)
        if not row.active:
            return str(row.status)
        job_id, credentials_id, region = row.job_id, row.credentials_id, row.region
    if job_id:
        aws = compute_envs.aws_session(ctx, workspace_id, credentials_id or "", region)
        try:
            aws.client("batch").terminate_job(
                jobId=job_id, reason=f"{CANCEL_REASON} (run {run_id})"
            )
        except AwsError:
            if not force:
                raise
    # A launch still in progress keeps its lease: the launcher (or, once the lease expires,
    # the reconciler) finds the job and terminates it, and secrets wait until then.
    lease = {"lease_owner": None, "lease_until": None} if job_id else {}
    tasks = {"tasks_state": run_tasks.CLEANING, "tasks_at": utcnow()} if job_id else {}
    with ctx.db.transaction() as session:
        result = session.execute(
            update(models.Run)
            .where(models.Run.id == run_id, models.Run.active.is_(True))
            .values(
                status="CANCELLED",
                active=False,
                complete=utcnow(),
                updated_at=utcnow(),
                **lease,
                **tasks,
                error_message=None
                if job_id
                else "Cancelled before the head job's id was known; if the job reached "
                "AWS Batch it is terminated when found.",
            )
        )
        cancelled_now = result.rowcount == 1  # type: ignore[attr-defined]
    if job_id and cancelled_now:
        run_tasks.clean(
            ctx,
            run_id,
            compute_envs.SessionCache(ctx).get,
            "was cancelled",
            after=run_tasks.RECHECK,
            lead="Cancelled in batchforge: head job terminated;",
        )
    return "CANCELLED"


def delete(ctx: AppContext, workspace_id: int, run_id: str, force: bool = False) -> None:
    """Delete a finished run; an active one needs ``force`` (it is cancelled first)."""
    with ctx.db.transaction() as session:
        active = _state(session, workspace_id, run_id).active
    if active:
        if not force:
            raise Conflict(
                f"Workflow '{run_id}' is still active; cancel it first or delete with force=true.",
                field="force",
            )
        try:
            cancel(ctx, workspace_id, run_id, force=True)
        except Exception:  # a row that cannot be loaded: its head job is terminated by now
            if not isinstance(run_rows.load(ctx, run_id), run_rows.BrokenRow):
                raise
    with ctx.db.transaction() as session:  # by columns: a row that cannot be loaded goes too
        _state(session, workspace_id, run_id)
        session.execute(
            update(models.Run)
            .where(models.Run.id == run_id)
            .values(deleted=True, updated_at=utcnow())
        )


def _stream_of(ctx: AppContext, row: models.Run) -> str | None:
    """The head job's log stream: recorded by the tracker, else asked of DescribeJobs."""
    if row.log_stream or not row.job_id:
        return row.log_stream
    aws = compute_envs.aws_session(ctx, row.workspace_id, row.credentials_id or "", row.region)
    jobs = aws.client("batch").describe_jobs(jobs=[row.job_id]).get("jobs", [])
    stream = ((jobs[0].get("container") or {}).get("logStreamName")) if jobs else None
    if stream:
        with ctx.db.transaction() as session:
            session.execute(
                update(models.Run).where(models.Run.id == row.id).values(log_stream=stream)
            )
    return stream


def log_page(
    ctx: AppContext, workspace_id: int, run_id: str, next_token: str | None, max_lines: int | None
) -> LogPage:
    """A page of the head job's log after ``next_token``; ``pending`` while more may come."""
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, run_id)
    if not row.job_id:
        return LogPage(
            pending=row.active, message="The head job has not been submitted to AWS Batch."
        )
    stream = _stream_of(ctx, row)
    if not stream:
        return LogPage(
            pending=row.active, forwardToken=next_token, message="The head job has not started yet."
        )
    aws = compute_envs.aws_session(ctx, workspace_id, row.credentials_id or "", row.region)
    page = run_logs.read_page(
        aws.client("logs"), row.log_group, stream, next_token, max_lines or run_logs.MAX_EVENTS
    )
    if not page.exists:
        return LogPage(
            pending=row.active,
            forwardToken=next_token,
            message=f"The log stream {row.log_group}/{stream} does not exist"
            + (" yet." if row.active else " (the head job wrote no log)."),
        )
    return LogPage(entries=page.lines, forwardToken=page.token, pending=row.active)
