"""Terminating the task jobs of runs that ended or were cancelled (``Run.tasks_state``).

A run's task jobs are found and terminated by :mod:`batchforge.runs.tasks`.  This module
decides when, and records it so that it is done once:

=========  ================================================================================
NULL       nothing to do: the run is active, or it ended before batchforge recorded this
pending    the tracker saw the head job end: the next sweep (that same cycle) cleans
recheck    cancelled, and cleaned at once; listed once more :data:`RECHECK_SECONDS` later,
           for a task Nextflow submitted while its head job was being stopped
cleaning   claimed by one process (a guarded UPDATE); taken over once :data:`STALE_SECONDS` old
cleaned    done
unlisted   ListJobs was refused (``batch:ListJobs`` is an extra): the run's messages say so
=========  ================================================================================

A sweep with nothing pending or due makes no AWS call: one indexed query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from batchforge.aws.session import AwsSession
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import BatchforgeError
from batchforge.runs import tasks as run_tasks

log = logging.getLogger("batchforge.runs")

PENDING, RECHECK, CLEANING, CLEANED, UNLISTED = (
    "pending",
    "recheck",
    "cleaning",
    "cleaned",
    "unlisted",
)
RECHECK_SECONDS = 120.0  # ECS stops a container 30 s after SIGTERM by default; and margin
STALE_SECONDS = 600.0
SWEEP_LIMIT = 50  # runs per sweep: a burst of endings is spread over cycles

SessionFor = Callable[[int, str | None, str], AwsSession]


def task_queue(session: Any, row: models.Run) -> str:
    """The queue the run's tasks went to (``process.queue``): its environment's compute
    queue, else its head queue.  A deleted environment's record still answers."""
    env = session.get(models.ComputeEnv, row.compute_env_id)
    if env is not None:
        if (env.forge_state or {}).get("spec"):
            from batchforge.services.compute_envs import spec_from_state

            return spec_from_state(env.forge_state).name("work")
        config = env.config or {}
        queue = config.get("computeQueue") or config.get("headQueue")
        if queue:
            return str(queue)
    return row.job_queue


def live_native_ids(session: Any, run_id: str) -> tuple[str, ...]:
    """The Batch job ids of the run's tasks the trace last saw submitted or running (a
    task's ``nativeId`` is its AWS Batch job id)."""
    return tuple(
        session.scalars(
            select(models.RunTask.native_id).where(
                models.RunTask.run_id == run_id,
                models.RunTask.status.in_(("SUBMITTED", "RUNNING")),
                models.RunTask.native_id.is_not(None),
            )
        ).all()
    )


def claim(ctx: Any, run_id: str, state: str | None, at: datetime | None) -> bool:
    """Move the run from (``state``, ``at``) to ``cleaning``; False if someone else did."""
    with ctx.db.transaction() as session:
        query = update(models.Run).where(models.Run.id == run_id)
        query = query.where(
            models.Run.tasks_state.is_(None) if state is None else models.Run.tasks_state == state
        )
        query = query.where(
            models.Run.tasks_at.is_(None) if at is None else models.Run.tasks_at == at
        )
        result = session.execute(query.values(tasks_state=CLEANING, tasks_at=utcnow()))
        return result.rowcount == 1  # type: ignore[attr-defined]


def _append(message: str | None, line: str) -> str:
    return f"{message}\n{line}" if message else line


def clean(
    ctx: Any,
    run_id: str,
    session_for: SessionFor,
    why: str,
    after: str = CLEANED,
    lead: str | None = None,
) -> run_tasks.TaskCleanup | None:
    """Terminate the live task jobs of a run already claimed (``cleaning``) and record the
    outcome: state ``after`` (``unlisted`` if ListJobs was refused), and a line in the run's
    messages when something was terminated, refused, or ``lead`` is given (it starts the
    line).  None when the run is gone or listing failed transiently (retried later)."""
    with ctx.db.transaction() as session:
        row = session.get(models.Run, run_id)
        if row is None:
            return None
        queue = task_queue(session, row)
        workspace_id, credentials_id, region = row.workspace_id, row.credentials_id, row.region
        was = row.tasks_state
        known = live_native_ids(session, run_id)
    try:
        batch = session_for(workspace_id, credentials_id, region).client("batch")
    except BatchforgeError as error:
        log.warning("run %s: no AWS session to clean its task jobs: %s", run_id, error)
        _release(ctx, run_id, PENDING)
        return None
    result = run_tasks.terminate_tasks(
        batch, queue, run_id, run_tasks.task_reason(run_id, why), known
    )
    if not result.listed and not result.denied:
        log.warning("run %s: %s; will retry", run_id, result.error)
        _release(ctx, run_id, PENDING)
        return None
    with ctx.db.transaction() as session:
        row = session.get(models.Run, run_id)
        if row is None or was != CLEANING:
            return result
        if result.denied:
            line = (
                f"{result.summary()[:-1]} on '{queue}', so task jobs still alive (named "
                f"{run_tasks.task_prefix(run_id)}*) were not terminated; grant batch:ListJobs "
                "(an optional extra) or terminate them in AWS Batch."
            )
        elif lead:
            line = result.summary()
        elif result.terminated or result.failed:
            line = f"Task jobs still alive when the run {why}: {result.summary()}"
        else:
            line = ""
        if line:
            row.error_message = _append(row.error_message, f"{lead} {line}" if lead else line)
        row.tasks_state = UNLISTED if result.denied else after
        row.tasks_at = utcnow()
    return result


def _release(ctx: Any, run_id: str, state: str) -> None:
    with ctx.db.transaction() as session:
        session.execute(
            update(models.Run)
            .where(models.Run.id == run_id, models.Run.tasks_state == CLEANING)
            .values(tasks_state=state, tasks_at=utcnow())
        )


def due(ctx: Any, limit: int = SWEEP_LIMIT) -> list[tuple[str, str, datetime | None]]:
    """(run id, state, stamp) of ended runs whose task jobs are to be cleaned now."""
    now = utcnow()
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(models.Run.id, models.Run.tasks_state, models.Run.tasks_at)
            .where(models.Run.tasks_state.in_((PENDING, RECHECK, CLEANING)))
            .order_by(models.Run.tasks_at)
            .limit(limit * 4)
        ).all()
    waits = {RECHECK: RECHECK_SECONDS, CLEANING: STALE_SECONDS, PENDING: 0.0}
    ready = [
        (run_id, state, at)
        for run_id, state, at in rows
        if at is None or at <= now - timedelta(seconds=waits[state])
    ]
    return ready[:limit]


def sweep(ctx: Any, session_for: SessionFor) -> int:
    """Clean the task jobs of every run due (see :func:`due`); how many task jobs were
    terminated."""
    terminated = 0
    for run_id, state, at in due(ctx):
        if not claim(ctx, run_id, state, at):
            continue
        why = "was cancelled" if state == RECHECK else "ended"
        result = clean(ctx, run_id, session_for, why)
        if result is not None:
            terminated += result.terminated
    return terminated
