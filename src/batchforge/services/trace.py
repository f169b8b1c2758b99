"""The ``/trace/*`` receiver: what Nextflow's nf-tower plugin reports about a run.

Who may report (:func:`authorize`): the run's own token (``services/run_tokens.py``) for
that run only, or a user's API token for runs of a workspace where the user may launch.
A ``create`` without ``workflowId`` (``nextflow run … -with-tower URL`` launched anywhere,
with a user's token) creates a run (``origin="trace"``) in ``?workspaceId`` or the user's
default workspace, without compute environment or head job: its state comes from the trace
alone and the tracker never polls AWS Batch for it.

Delivery is at-least-once, so every call is idempotent:

- tasks are upserted by ``(run, taskId)``; a snapshot is applied only when its status ranks
  higher than the stored one, or the same status with a newer ``instant`` — so a replayed or
  reordered delivery changes nothing and a task's status never goes back;
- progress counts by status are derived from the tasks received (``run_process``, updated
  by the delta of each accepted transition), so they always agree with the tasks; the
  client's own snapshot (load, peaks, retries, ignored) is kept only if newer (``instant``);
- the run's state follows the one rule in :mod:`batchforge.runs.states`.

A progress with malformed task entries stores the well-formed ones and answers 400 naming
the others (the plugin never sends such entries: it truncates strings itself).  Each
progress runs in one transaction whose first statement locks the run's ``run_trace`` row,
so two deliveries for one run never interleave (on any replica).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import Forbidden, InvalidInput, NotFound
from batchforge.runs import states
from batchforge.runs import trace_parse as parse
from batchforge.services import authz, run_tokens
from batchforge.services.context import AppContext, Principal
from batchforge.services.ids import new_id

log = logging.getLogger("batchforge.trace")

# SQLite has one writer at a time: trace writes of this process queue here, in order,
# instead of polling SQLite's busy lock (which times out under a burst of runs reporting).
_SQLITE_WRITER = threading.Lock()


@contextmanager
def _writing(ctx: AppContext) -> Iterator[Session]:
    """A write transaction; on SQLite, one trace writer of this process at a time."""
    if ctx.db.is_postgres:
        with ctx.db.transaction() as session:
            yield session
        return
    with _SQLITE_WRITER, ctx.db.transaction() as session:
        yield session


@dataclass(frozen=True)
class TracedRun:
    id: str
    workspace_id: int
    status: str
    origin: str
    trace_state: str | None


def _invalid(error: parse.Malformed) -> InvalidInput:
    """The 400 for a malformed trace body (logged: the plugin only logs it, or aborts)."""
    log.warning("trace request refused: %s", error)
    return InvalidInput(str(error), field=error.field)


def _workspace(principal: Principal, workspace_id: int | None) -> int:
    """The workspace a trace call acts in: a user needs ``workflow:execute`` there (as to
    launch, :mod:`batchforge.services.authz`); a run token, its run's workspace only."""
    if principal.run_id is not None:
        if workspace_id is not None and workspace_id != principal.default_workspace_id:
            raise Forbidden("This run token is not valid in that workspace.", field="workspaceId")
        assert principal.default_workspace_id is not None
        return principal.default_workspace_id
    resolved = authz.acting_workspace(principal, workspace_id)
    authz.require(principal, resolved, authz.Permission.WORKFLOW_EXECUTE)
    return resolved


def authorize(
    ctx: AppContext, principal: Principal, run_id: str, workspace_id: int | None
) -> TracedRun:
    """The run ``principal`` may report; 403 for a run token of another run, 400 for a run
    unknown in the caller's workspace (nf-tower's "Unknown workflow" answer)."""
    if principal.run_id is not None and principal.run_id != run_id:
        raise Forbidden("This run token is for another workflow.", field="workflowId")
    workspace = _workspace(principal, workspace_id)
    with ctx.db.transaction() as session:
        row = session.execute(
            select(
                models.Run.id,
                models.Run.workspace_id,
                models.Run.status,
                models.Run.origin,
                models.Run.trace_state,
            ).where(
                models.Run.id == run_id,
                models.Run.workspace_id == workspace,
                models.Run.deleted.is_(False),
            )
        ).first()
    if row is None:
        raise NotFound(f"Unknown workflow id={run_id} in this workspace.", field="workflowId")
    return TracedRun(*row)


def _watch_url(ctx: AppContext, run_id: str) -> str:
    return f"{ctx.settings.effective_public_url}/ui/runs/{run_id}"


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    return body


def _text(body: dict[str, Any], key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{key}: must be a string.", field=key)
    if len(value) > limit:
        raise InvalidInput(f"{key}: longer than {limit} characters.", field=key)
    return parse.clean_text(value)


# --- create ----------------------------------------------------------------------------------


def create(
    ctx: AppContext, principal: Principal, workspace_id: int | None, body: Any
) -> dict[str, Any]:
    """``POST /trace/create``: the run a Nextflow execution reports as (TraceCreateResponse)."""
    body = _object(body)
    run_id = _text(body, "workflowId", 16) or _text(body, "launchId", 16)
    session_id = _text(body, "sessionId", 36)
    run_name = _text(body, "runName", 80)
    if run_id is None:
        if principal.run_id is not None:
            raise Forbidden("A run token cannot create another workflow.", field="workflowId")
        run_id = _create_external(
            ctx, principal, _workspace(principal, workspace_id), body, session_id, run_name
        )
    else:
        run = authorize(ctx, principal, run_id, workspace_id)
        with _writing(ctx) as session:
            _lock(session, run.id)
            values: dict[str, Any] = {"trace_at": utcnow(), "updated_at": utcnow()}
            if session_id:
                values["session_id"] = session_id  # the real one, chosen by Nextflow
            session.execute(update(models.Run).where(models.Run.id == run.id).values(**values))
            session.execute(
                update(models.Run)
                .where(models.Run.id == run.id, models.Run.trace_state.is_(None))
                .values(trace_state="created")
            )
    return {
        "workflowId": run_id,
        "watchUrl": _watch_url(ctx, run_id),
        "metadata": _metadata(ctx, run_id, principal),
    }


def _create_external(
    ctx: AppContext,
    principal: Principal,
    workspace_id: int,
    body: dict[str, Any],
    session_id: str | None,
    run_name: str | None,
) -> str:
    """A run for an execution launched elsewhere; a retried create (same session and run
    name, nothing reported since) returns the same run."""
    repository = _text(body, "repository", 1024) or _text(body, "projectName", 1024) or ""
    run_name = run_name or "nextflow-run"
    with _writing(ctx) as session:
        if session_id:
            existing = session.scalars(
                select(models.Run.id).where(
                    models.Run.workspace_id == workspace_id,
                    models.Run.origin == "trace",
                    models.Run.session_id == session_id,
                    models.Run.run_name == run_name,
                    models.Run.trace_state == "created",
                    models.Run.deleted.is_(False),
                )
            ).first()
            if existing:
                return existing
        run_id = new_id()
        now = utcnow()
        session.add(
            models.Run(
                id=run_id,
                workspace_id=workspace_id,
                compute_env_id=None,
                region="",
                run_name=run_name,
                repository=repository,
                work_dir="",
                session_id=session_id or "",
                user_name=principal.user_name,
                launch={},
                status="SUBMITTED",
                active=True,
                submit_state="none",
                job_name=f"trace-{run_id}",
                job_queue="",
                submit=now,
                updated_at=now,
                origin="trace",
                trace_state="created",
                trace_at=now,
            )
        )
        session.flush()
        session.add(models.RunTrace(run_id=run_id, process_names=[]))
    log.info("run %s created by a trace from %s", run_id, principal.user_name)
    return run_id


def _metadata(ctx: AppContext, run_id: str, principal: Principal) -> dict[str, Any]:
    """TraceCreateMetadata: who and where the run is (the latest plugin exposes it)."""
    with ctx.db.transaction() as session:
        run = session.get(models.Run, run_id)
        assert run is not None
        workspace = session.get(models.Workspace, run.workspace_id)
        org = session.get(models.Organization, workspace.org_id) if workspace else None
        env = session.get(models.ComputeEnv, run.compute_env_id) if run.compute_env_id else None
        return {
            "userId": principal.user_id,
            "userName": run.user_name or principal.user_name,
            "workspaceId": run.workspace_id,
            "workspaceName": workspace.name if workspace else None,
            "workspaceFullName": workspace.full_name if workspace else None,
            "orgName": org.name if org else None,
            "computeEnvId": run.compute_env_id,
            "computeEnvName": env.name if env else None,
            "computeEnvPlatform": "aws-batch" if env else None,
            "pipelineId": run.pipeline_id,
            "revision": run.revision,
        }


# --- begin, heartbeat, complete ----------------------------------------------------------------


def _set_status(session: Session, run: TracedRun, new: str, **values: Any) -> None:
    """Write the run's trace fields, and ``new`` as status only if the status is still the
    one read (a concurrent cancel wins)."""
    now = utcnow()
    session.execute(
        update(models.Run)
        .where(models.Run.id == run.id)
        .values(trace_at=now, updated_at=now, **values)
    )
    if new != run.status:
        session.execute(
            update(models.Run)
            .where(models.Run.id == run.id, models.Run.status == run.status)
            .values(status=new)
        )


def _store_progress(session: Session, run_id: str, progress: dict[str, Any] | None, instant: int):
    """Keep the client's progress snapshot if it is newer than the stored one."""
    if progress is None:
        return
    session.execute(
        update(models.RunTrace)
        .where(models.RunTrace.run_id == run_id, models.RunTrace.progress_instant <= instant)
        .values(progress=progress, progress_instant=instant, updated_at=utcnow())
    )


def begin(
    ctx: AppContext, principal: Principal, run_id: str, workspace_id: int | None, body: Any
) -> dict[str, Any]:
    """``PUT /trace/{id}/begin``: the workflow's metadata and process names; RUNNING."""
    body = _object(body)
    run = authorize(ctx, principal, run_id, workspace_id)
    try:
        workflow = parse.parse_workflow(body.get("workflow"))
    except parse.Malformed as error:
        raise _invalid(error) from None
    names = body.get("processNames") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidInput("processNames: must be an array of strings.", field="processNames")
    names = [parse.clean_text(n)[:255] for n in names]
    with _writing(ctx) as session:
        _lock(session, run.id)
        values = _workflow_values(session, run, workflow)
        if run.trace_state != states.TRACE_COMPLETED:
            values["trace_state"] = states.TRACE_RUNNING
        _set_status(session, run, states.status_after_trace(run.status, "begin"), **values)
        session.execute(
            update(models.RunTrace)
            .where(models.RunTrace.run_id == run.id)
            .values(process_names=names, updated_at=utcnow())
        )
    return {"status": "OK", "workflowId": run.id, "watchUrl": _watch_url(ctx, run.id)}


def _workflow_values(session: Session, run: TracedRun, workflow: dict[str, Any]) -> dict[str, Any]:
    """Run columns from the trace's Workflow metadata (merged into ``trace_workflow``)."""
    row = session.get(models.Run, run.id)
    assert row is not None
    merged = {**(row.trace_workflow or {}), **{k: v for k, v in workflow.items() if v is not None}}
    values: dict[str, Any] = {"trace_workflow": merged}
    if workflow.get("sessionId"):
        values["session_id"] = workflow["sessionId"]
    if workflow.get("start") and row.start is None:
        values["start"] = parse.parse_time(workflow["start"])
    if run.origin == "trace":
        for column, key, limit in (
            ("work_dir", "workDir", 1024),
            ("repository", "repository", 1024),
            ("revision", "revision", 255),
            ("command_line", "commandLine", 100_000),
        ):
            value = workflow.get(key)
            if isinstance(value, str) and value:
                values[column] = value[:limit]
        if not values.get("repository") and isinstance(workflow.get("projectName"), str):
            values["repository"] = workflow["projectName"]
    return values


def heartbeat(
    ctx: AppContext, principal: Principal, run_id: str, workspace_id: int | None, body: Any
) -> dict[str, Any]:
    """``PUT /trace/{id}/heartbeat``: the run is alive (``trace_at``), a progress snapshot."""
    body = _object(body)
    run = authorize(ctx, principal, run_id, workspace_id)
    try:
        progress = parse.parse_progress(body.get("progress"))
    except parse.Malformed as error:
        raise _invalid(error) from None
    with _writing(ctx) as session:
        _lock(session, run.id)
        _store_progress(session, run.id, progress, parse.instant_of(body))
        _set_status(session, run, states.status_after_trace(run.status, "heartbeat"))
    return {"message": "OK"}


def complete(
    ctx: AppContext, principal: Principal, run_id: str, workspace_id: int | None, body: Any
) -> dict[str, Any]:
    """``PUT /trace/{id}/complete``: the final workflow, metrics and progress."""
    body = _object(body)
    run = authorize(ctx, principal, run_id, workspace_id)
    try:
        workflow = parse.parse_workflow(body.get("workflow"))
        progress = parse.parse_progress(body.get("progress"))
        metrics = parse.clean(body.get("metrics"), "metrics")
    except parse.Malformed as error:
        raise _invalid(error) from None
    if metrics is not None and not (
        isinstance(metrics, list) and all(isinstance(m, dict) for m in metrics)
    ):
        raise InvalidInput("metrics: must be an array of objects.", field="metrics")
    final = states.trace_final_status(workflow.get("success"), workflow.get("exitStatus"))
    new = states.status_after_trace(run.status, "complete", final)
    with _writing(ctx) as session:
        _lock(session, run.id)
        values = _workflow_values(session, run, workflow)
        values["trace_state"] = states.TRACE_COMPLETED
        if new != "CANCELLED":
            values["complete"] = parse.parse_time(workflow.get("complete")) or utcnow()
            values["exit_status"] = workflow.get("exitStatus")
            values["error_message"] = None if new == "SUCCEEDED" else _error_of(workflow) or None
        if run.origin == "trace":  # no head job: the trace alone ends it
            values.update(active=False, lease_owner=None, lease_until=None)
        _set_status(session, run, new, **values)
        _store_progress(session, run.id, progress, parse.instant_of(body))
        if metrics is not None:
            session.execute(
                update(models.RunTrace)
                .where(models.RunTrace.run_id == run.id)
                .values(metrics=metrics, updated_at=utcnow())
            )
    run_tokens.revoke(ctx, run.id)
    return {"status": "OK", "workflowId": run.id}


def _error_of(workflow: dict[str, Any]) -> str | None:
    message = workflow.get("errorMessage") or workflow.get("errorReport")
    return str(message)[:4000] if message else None


# --- progress ----------------------------------------------------------------------------------


@dataclass
class Ingested:
    """What one progress did: tasks inserted, updated, ignored (stale), and problems."""

    inserted: int = 0
    updated: int = 0
    ignored: int = 0
    problems: list[parse.Problem] | None = None


def progress(
    ctx: AppContext, principal: Principal, run_id: str, workspace_id: int | None, body: Any
) -> Ingested:
    """``PUT /trace/{id}/progress``: upsert the tasks, keep the progress snapshot.

    Malformed task entries are reported in ``problems`` (the others are stored); a body that
    is not an object, or more than 100 tasks, is refused whole (400) with nothing written."""
    body = _object(body)
    run = authorize(ctx, principal, run_id, workspace_id)
    try:
        tasks, problems = parse.parse_tasks(body.get("tasks"))
        snapshot = parse.parse_progress(body.get("progress"))
    except parse.Malformed as error:
        raise _invalid(error) from None
    instant = parse.instant_of(body)
    result = Ingested(problems=problems)
    with _writing(ctx) as session:
        _lock(session, run.id)
        _upsert_tasks(ctx, session, run.id, tasks, instant, result)
        _store_progress(session, run.id, snapshot, instant)
        _set_status(session, run, states.status_after_trace(run.status, "progress"))
    if problems:
        log.warning(
            "run %s: %d malformed task(s) not stored: %s",
            run.id,
            len(problems),
            "; ".join(p.message for p in problems[:5]),
        )
    return result


def _lock(session: Session, run_id: str) -> None:
    """Serialise the trace writes of one run: every one starts with an UPDATE of its
    ``run_trace`` row (a row lock on PostgreSQL, the write lock at once on SQLite), so they
    take their locks in one order and never deadlock.  A missing row is made first (an
    INSERT that waits for a concurrent one, then the UPDATE again takes the lock)."""
    statement = (
        update(models.RunTrace).where(models.RunTrace.run_id == run_id).values(updated_at=utcnow())
    )
    if session.execute(statement).rowcount == 0:  # type: ignore[attr-defined]
        _insert_ignore(session, models.RunTrace, [{"run_id": run_id, "process_names": []}])
        session.execute(statement)


def _insert_ignore(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(model).on_conflict_do_nothing(), rows)


def _accepts(old_status: str, old_instant: int, new: parse.TaskSnapshot, instant: int) -> bool:
    """A snapshot replaces the stored one iff its status ranks higher, or it is the same
    status reported later.  Final statuses are final (the first one reported wins)."""
    old_rank = parse.STATUS_RANK.get(old_status, 0)
    if new.rank != old_rank:
        return new.rank > old_rank
    return new.status == old_status and instant > old_instant


def _task_values(run_id: str, task: parse.TaskSnapshot, instant: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "task_id": task.task_id,
        "status": task.status,
        "instant": instant,
        "process": task.process,
        "name": task.name,
        "tag": task.tag,
        "hash": task.hash,
        "native_id": task.native_id,
        "exit": task.exit,
        "attempt": task.attempt,
        "cpus": task.cpus,
        "memory": task.memory,
        "duration": task.duration,
        "realtime": task.realtime,
        "submit": task.submit,
        "start": task.start,
        "complete": task.complete,
        "data": task.data,
        "updated_at": utcnow(),
    }


_TASKS = models.RunTask.__table__
# One UPDATE per task by primary key, sent as one executemany.
_UPDATE_TASK = (
    _TASKS.update()
    .where(_TASKS.c.run_id == bindparam("v_run_id"), _TASKS.c.task_id == bindparam("v_task_id"))
    .values(
        {
            column.name: bindparam(f"v_{column.name}")
            for column in _TASKS.c
            if column.name not in ("run_id", "task_id", "created_at")
        }
    )
)


def _upsert_tasks(
    ctx: AppContext,
    session: Session,
    run_id: str,
    tasks: list[parse.TaskSnapshot],
    instant: int,
    result: Ingested,
) -> None:
    if not tasks:
        return
    stored = {
        task_id: (status, old_instant, process)
        for task_id, status, old_instant, process in session.execute(
            select(
                models.RunTask.task_id,
                models.RunTask.status,
                models.RunTask.instant,
                models.RunTask.process,
            ).where(
                models.RunTask.run_id == run_id,
                models.RunTask.task_id.in_([t.task_id for t in tasks]),
            )
        )
    }
    inserts, updates = [], []
    delta: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(parse.COUNTERS, 0))
    for task in tasks:
        before = stored.get(task.task_id)
        if before is None:
            inserts.append({**_task_values(run_id, task, instant), "created_at": utcnow()})
        elif _accepts(before[0], before[1], task, instant):
            updates.append(_task_values(run_id, task, instant))
            delta[before[2]][parse.COUNTER[before[0]]] -= 1
        else:
            result.ignored += 1
            continue
        delta[task.process][parse.COUNTER[task.status]] += 1
    if inserts:
        session.execute(_TASKS.insert(), inserts)
    if updates:
        session.execute(_UPDATE_TASK, [{f"v_{k}": v for k, v in row.items()} for row in updates])
    result.inserted, result.updated = len(inserts), len(updates)
    _count(session, run_id, delta)


def _count(session: Session, run_id: str, delta: dict[str, dict[str, int]]) -> None:
    """Apply the per-process counter deltas (one INSERT-if-missing, one UPDATE batch)."""
    changed = {name: d for name, d in delta.items() if any(d.values())}
    if not changed:
        return
    _insert_ignore(
        session,
        models.RunProcess,
        [{"run_id": run_id, "name": name, **dict.fromkeys(parse.COUNTERS, 0)} for name in changed],
    )
    table = models.RunProcess.__table__
    statement = (
        table.update()
        .where(table.c.run_id == bindparam("b_run"), table.c.name == bindparam("b_name"))
        .values({c: table.c[c] + bindparam(f"d_{c}") for c in parse.COUNTERS})
    )
    session.execute(
        statement,
        [
            {"b_run": run_id, "b_name": name, **{f"d_{c}": d[c] for c in parse.COUNTERS}}
            for name, d in changed.items()
        ],
    )
