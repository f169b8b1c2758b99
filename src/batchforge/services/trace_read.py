"""Reading a run's trace, in Seqera's shapes: progress, tasks, one task, metrics.

Progress costs the same whatever the number of tasks: counts come from the per-process
counters (``run_process``) maintained at ingestion, never from counting task rows; the
client's snapshot adds what tasks cannot say (load, peaks, retries, ignored).  A task page
counts rows only when ``search`` is given (otherwise the total is the counters' sum).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from batchforge.db import models
from batchforge.errors import Conflict, InvalidInput, NotFound
from batchforge.runs import trace_parse as parse
from batchforge.schemas.trace import (
    DescribeTaskResponse,
    ListTasksResponse,
    ProcessLoad,
    ProgressData,
    Task,
    WorkflowLoad,
    WorkflowMetrics,
)
from batchforge.services import run_costs, run_health
from batchforge.services.context import AppContext

MAX_PAGE = 100
# sortBy → column (Seqera's task table sorts by these).
SORT_COLUMNS = {
    "taskId": models.RunTask.task_id,
    "id": models.RunTask.task_id,
    "status": models.RunTask.status,
    "name": models.RunTask.name,
    "process": models.RunTask.process,
    "tag": models.RunTask.tag,
    "hash": models.RunTask.hash,
    "nativeId": models.RunTask.native_id,
    "exit": models.RunTask.exit,
    "attempt": models.RunTask.attempt,
    "cpus": models.RunTask.cpus,
    "memory": models.RunTask.memory,
    "duration": models.RunTask.duration,
    "realtime": models.RunTask.realtime,
    "submit": models.RunTask.submit,
    "start": models.RunTask.start,
    "complete": models.RunTask.complete,
    "lastUpdated": models.RunTask.updated_at,
}
# Fields of the client's snapshot that tasks cannot tell (TraceProgressData → WorkflowLoad).
_SNAPSHOT_FIELDS = {
    "ignored": "ignored",
    "retries": "retries",
    "loadCpus": "loadCpus",
    "loadMemory": "loadMemory",
    "peakCpus": "peakCpus",
    "peakMemory": "peakMemory",
    "peakRunning": "peakTasks",
}


def run_row(session: Any, workspace_id: int, run_id: str) -> models.Run:
    """The run of ``workspace_id`` (404 otherwise, deleted included)."""
    row = session.get(models.Run, run_id)
    if row is None or row.workspace_id != workspace_id or row.deleted:
        raise NotFound(f"Workflow '{run_id}' not found in this workspace.")
    return row  # type: ignore[no-any-return]


def _snapshot_values(snapshot: dict[str, Any] | None) -> dict[str, int]:
    return {target: parse.int_of(snapshot, source) for source, target in _SNAPSHOT_FIELDS.items()}


def progress_of(session: Any, run: models.Run) -> ProgressData:
    """The run's ProgressData (also embedded in ``GET /workflow/{id}``)."""
    trace = session.get(models.RunTrace, run.id)
    counters = {
        row.name: row
        for row in session.scalars(
            select(models.RunProcess).where(models.RunProcess.run_id == run.id)
        )
    }
    snapshot = trace.progress if trace else None
    reported = {
        str(p.get("name")): p
        for p in (snapshot or {}).get("processes") or []
        if isinstance(p, dict) and p.get("name")
    }
    order = list(trace.process_names if trace else [])
    order += sorted(
        (n for n in reported if n not in order), key=lambda n: parse.int_of(reported[n], "index")
    )
    order += sorted(n for n in counters if n and n not in order)
    updated = trace.updated_at if trace else run.updated_at
    processes = []
    totals = dict.fromkeys(parse.COUNTERS, 0)
    for name in order:
        row = counters.get(name)
        counts = {c: max(getattr(row, c), 0) if row else 0 for c in parse.COUNTERS}
        for c in parse.COUNTERS:
            totals[c] += counts[c]
        processes.append(
            ProcessLoad(
                process=name,
                **counts,
                **_snapshot_values(reported.get(name)),
                loadTasks=counts["running"],
                dateCreated=run.submit,
                lastUpdated=updated,
            )
        )
    workflow = WorkflowLoad(
        **totals,
        **_snapshot_values(snapshot),
        loadTasks=totals["running"],
        executors=["awsbatch"] if run.origin == "launch" else [],
        dateCreated=run.submit,
        lastUpdated=updated,
        cost=run_costs.run_total(session, run.id),
    )
    return ProgressData(
        workflowProgress=workflow, processesProgress=processes, totalProcesses=len(processes)
    )


def progress(ctx: AppContext, workspace_id: int, run_id: str) -> ProgressData:
    with ctx.db.transaction() as session:
        return progress_of(session, run_row(session, workspace_id, run_id))


def to_task(row: models.RunTask, extra: dict[str, Any] | None = None) -> Task:
    """The stored snapshot as Seqera's Task, with batchforge's ``extra`` fields (its cost
    estimate, why it waits: ``run_health.task_extras``) instead of the client's."""
    data = {k: v for k, v in (row.data or {}).items() if v is not None}
    data.pop("cost", None)
    data.update(extra or {})
    data.update(
        taskId=row.task_id,
        status=row.status,
        dateCreated=row.created_at,
        lastUpdated=row.updated_at,
    )
    for key in ("submit", "start", "complete"):
        value = getattr(row, key)
        if value is not None:
            data[key] = parse.iso(value)
    if row.native_id is not None:
        data["nativeId"] = row.native_id
    return Task(**data)


def list_tasks(
    ctx: AppContext,
    workspace_id: int,
    run_id: str,
    *,
    max_results: int = 50,
    offset: int = 0,
    sort_by: str | None = None,
    sort_dir: str | None = None,
    search: str | None = None,
) -> ListTasksResponse:
    """A page of the run's tasks.  ``search`` matches name, process, tag, hash, native id
    (case-insensitive substring) or status (exact, e.g. ``FAILED``)."""
    column = SORT_COLUMNS.get(sort_by or "taskId")
    if column is None:
        raise InvalidInput(f"sortBy: must be one of {', '.join(SORT_COLUMNS)}.", field="sortBy")
    direction = (sort_dir or "asc").lower()
    if direction not in ("asc", "desc"):
        raise InvalidInput("sortDir: must be asc or desc.", field="sortDir")
    if max_results < 1 or offset < 0:
        raise InvalidInput("max must be at least 1 and offset at least 0.", field="max")
    limit = min(max_results, MAX_PAGE)
    conditions: list[Any] = [models.RunTask.run_id == run_id]
    if search:
        pattern = f"%{search.lower()}%"
        conditions.append(
            or_(
                func.lower(models.RunTask.name).like(pattern),
                func.lower(models.RunTask.process).like(pattern),
                func.lower(models.RunTask.tag).like(pattern),
                models.RunTask.hash.like(f"%{search}%"),
                models.RunTask.native_id == search,
                models.RunTask.status == search.upper(),
            )
        )
    order = [column.desc() if direction == "desc" else column.asc()]
    if column is not models.RunTask.task_id:
        order.append(models.RunTask.task_id.asc())
    with ctx.db.transaction() as session:
        run_row(session, workspace_id, run_id)
        rows = session.scalars(
            select(models.RunTask).where(*conditions).order_by(*order).offset(offset).limit(limit)
        ).all()
        if search:
            total = session.scalar(
                select(func.count()).select_from(models.RunTask).where(*conditions)
            )
        else:
            total = session.scalar(
                select(
                    func.coalesce(
                        func.sum(sum(getattr(models.RunProcess, c) for c in parse.COUNTERS)), 0
                    )
                ).where(models.RunProcess.run_id == run_id)
            )
        extras = run_health.task_extras(session, run_id, [row.task_id for row in rows])
    return ListTasksResponse(
        tasks=[DescribeTaskResponse(task=to_task(row, extras.get(row.task_id))) for row in rows],
        total=int(total or 0),
    )


def task_row(ctx: AppContext, workspace_id: int, run_id: str, task_id: int) -> models.RunTask:
    with ctx.db.transaction() as session:
        run_row(session, workspace_id, run_id)
        row = session.get(models.RunTask, (run_id, task_id))
    if row is None:
        raise NotFound(f"Task {task_id} not found in workflow '{run_id}'.", field="taskId")
    return row  # type: ignore[no-any-return]


def describe_task(ctx: AppContext, workspace_id: int, run_id: str, task_id: int) -> Task:
    row = task_row(ctx, workspace_id, run_id, task_id)
    with ctx.db.transaction() as session:
        extra = run_health.task_extras(session, run_id, [task_id]).get(task_id)
    return to_task(row, extra)


_METRIC_KEYS = set(WorkflowMetrics.model_fields) - {"process"}


def metrics(ctx: AppContext, workspace_id: int, run_id: str) -> list[WorkflowMetrics]:
    """The per-process resource summaries of the trace ``complete`` (empty before it)."""
    with ctx.db.transaction() as session:
        run_row(session, workspace_id, run_id)
        trace = session.get(models.RunTrace, run_id)
        stored = list(trace.metrics or []) if trace else []
    result = []
    for entry in stored:
        if not isinstance(entry, dict) or not isinstance(entry.get("process"), str):
            continue
        series = {
            key: {k: v for k, v in value.items() if v is not None}
            for key, value in entry.items()
            if key in _METRIC_KEYS and isinstance(value, dict)
        }
        result.append(WorkflowMetrics(process=entry["process"], **series))
    return result


# --- the run's Workflow fields reported by the trace ------------------------------------------

_STRING_FIELDS = (
    "commitId",
    "scriptName",
    "profile",
    "container",
    "containerEngine",
    "launchDir",
    "projectDir",
    "errorReport",
)
_MANIFEST_KEYS = (
    "author", "defaultBranch", "description", "gitmodules", "homePage", "icon", "mainScript",
    "name", "nextflowVersion", "version",
)  # fmt: skip
_STATS_INTS = (
    "cachedCount", "cachedDuration", "failedCount", "failedDuration", "ignoredCount",
    "succeedCount", "succeedDuration",
)  # fmt: skip
_STATS_NUMBERS = ("cachedPct", "failedPct", "ignoredPct", "succeedPct")
_STATS_STRINGS = (
    "cachedCountFmt", "computeTimeFmt", "failedCountFmt", "ignoredCountFmt", "succeedCountFmt",
)  # fmt: skip


def _text_of(value: Any) -> str | None:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value) if value is not None and not isinstance(value, dict) else None


def workflow_fields(traced: dict[str, Any] | None) -> dict[str, Any]:
    """WorkflowDbDto fields from the trace's Workflow metadata, in the spec's types
    (``nextflow.build`` is a number in Nextflow and a string in the spec; the manifest's
    ``gitmodules`` a list; unknown or mistyped stats are left out)."""
    traced = traced or {}
    fields: dict[str, Any] = {
        key: traced[key] for key in _STRING_FIELDS if isinstance(traced.get(key), str)
    }
    nextflow = traced.get("nextflow")
    if isinstance(nextflow, dict):
        fields["nextflow"] = {
            key: text[:10] if key == "build" else text
            for key in ("version", "build", "timestamp")
            if (text := _text_of(nextflow.get(key))) is not None
        }
    manifest = traced.get("manifest")
    if isinstance(manifest, dict):
        fields["manifest"] = {
            key: text for key in _MANIFEST_KEYS if (text := _text_of(manifest.get(key)))
        }
    stats = traced.get("stats")
    if isinstance(stats, dict):
        kept = {k: int(stats[k]) for k in _STATS_INTS if isinstance(stats.get(k), int | float)}
        kept |= {k: stats[k] for k in _STATS_NUMBERS if isinstance(stats.get(k), int | float)}
        kept |= {k: stats[k] for k in _STATS_STRINGS if isinstance(stats.get(k), str)}
        fields["stats"] = kept
    return fields


def require_launched(ctx: AppContext, workspace_id: int, run_id: str, what: str) -> None:
    """Refuse ``what`` (the head job's log, run files, cancel) for a run launched outside
    batchforge (``origin="trace"``): there is no head job, and no AWS access for it.  A run
    unknown in the workspace is left to the caller's own 404."""
    with ctx.db.transaction() as session:
        origin = session.scalar(
            select(models.Run.origin).where(
                models.Run.id == run_id, models.Run.workspace_id == workspace_id
            )
        )
    if origin == "trace":
        error = Conflict if what == "cancel" else NotFound
        raise error(
            f"Workflow '{run_id}' was launched outside batchforge (it reports through "
            f"-with-tower): batchforge has no head job or AWS access for it, so no {what}.",
            hint="Stop or inspect it where that Nextflow runs."
            if what == "cancel"
            else "Its progress, tasks and metrics are here (GET /workflow/{id}/progress).",
        )
