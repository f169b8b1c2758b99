"""Run health, a step of the tracker cycle (:func:`check`): stale runs, waiting tasks
explained, cost estimates (:mod:`batchforge.services.run_costs`).

- **Stale runs**: a run whose Nextflow reported (``/trace``) but has sent nothing for
  ``settings.stale_after_minutes`` (the nf-tower plugin sends a heartbeat every minute) is
  marked stale with why (``run_health.stale_*``; shown in the run's ``messages``).  A run
  launched elsewhere has nothing else telling its state: it is shown ``UNKNOWN`` (as Seqera
  does) until it reports again, when its status is restored.  A launched run keeps its head
  job's status from AWS Batch, which the tracker goes on following.
- **Waiting tasks**: a task SUBMITTED in the trace for ``settings.runnable_after_minutes`` is
  looked up by its ``nativeId`` (``batch:DescribeJobs``, 100 ids per call); a RUNNABLE job is
  explained (:mod:`batchforge.runs.stuck`) from its queue and compute environments (one
  ``DescribeJobQueues`` and one ``DescribeComputeEnvironments`` per credentials and region per
  cycle) and the instance types' sizes (cached, :mod:`.instance_sizes`).  A task is looked
  at again every :data:`RECHECK` at most.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import AwsAccessDenied, AwsError, BatchforgeError
from batchforge.runs import stuck
from batchforge.services import instance_sizes, run_costs
from batchforge.services.context import AppContext

log = logging.getLogger("batchforge.runs")

REPORTING = ("created", "begun")
ACTIVE = ("SUBMITTED", "RUNNING")
RECHECK = timedelta(minutes=5)
TASKS_PER_CYCLE = 500
DESCRIBE_BATCH = 100
OTHER_STATES = {
    "SUBMITTED": "AWS Batch has not evaluated it yet (SUBMITTED)",
    "PENDING": "it waits for a dependency (PENDING)",
    "STARTING": "its instance is starting the container, pulling the image (STARTING)",
}

SessionFor = Any  # Callable[[int, str | None, str], AwsSession]


@dataclass
class HealthStats:
    stale: int = 0
    recovered: int = 0
    explained: int = 0
    batch_calls: int = 0
    costs: run_costs.CostStats = field(default_factory=run_costs.CostStats)


def check(ctx: AppContext, session_for: SessionFor, now: datetime | None = None) -> HealthStats:
    """The run health step of a tracker cycle.  Best effort: a failing part is logged and
    the others still run; it never breaks the tracker's cycle."""
    now = now or utcnow()
    stats = HealthStats()
    for name, step in (
        ("stale runs", lambda: _stale_step(ctx, now, stats)),
        ("waiting tasks", lambda: explain_waiting(ctx, session_for, now, stats)),
        ("costs", lambda: setattr(stats, "costs", run_costs.price_tasks(ctx, session_for))),
    ):
        try:
            step()
        except BatchforgeError as error:
            log.warning("run health (%s) failed: %s", name, error)
        except IntegrityError:  # another replica wrote the same rows first: nothing lost
            log.info("run health (%s): another server did it first", name)
        except Exception:  # a bug or the database: logged with its trace, retried next cycle
            log.exception("run health (%s) failed", name)
    return stats


def _stale_step(ctx: AppContext, now: datetime, stats: HealthStats) -> None:
    stats.stale = mark_stale(ctx, now)
    stats.recovered = recover(ctx)


# --- stale runs ------------------------------------------------------------------------------


def stale_reason(origin: str, trace_at: datetime, now: datetime, batch_state: str | None) -> str:
    minutes = max(int((now - trace_at).total_seconds() // 60), 1)
    said = (
        f"No report from Nextflow since {trace_at:%Y-%m-%d %H:%M} UTC ({minutes} minutes; its "
        "nf-tower plugin sends a heartbeat every minute): it may have lost its connection to "
        "batchforge, or stopped without reporting"
    )
    if origin == "trace":
        return (
            f"{said}. It was launched outside batchforge, so nothing else tells its state: "
            "shown UNKNOWN until it reports again."
        )
    head = (batch_state or "").split("|", 1)[0]
    where = f" is {head} in AWS Batch" if head else " is followed in AWS Batch"
    return f"{said}. Its head job{where}; the run ends when the head job does."


def mark_stale(ctx: AppContext, now: datetime) -> int:
    """Mark runs silent for longer than the setting; how many were marked."""
    cutoff = now - timedelta(minutes=ctx.settings.stale_after_minutes)
    health = models.RunHealth
    marked = 0
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(
                models.Run.id,
                models.Run.origin,
                models.Run.status,
                models.Run.trace_at,
                models.Run.batch_state,
                health.run_id,
            )
            .outerjoin(health, health.run_id == models.Run.id)
            .where(
                models.Run.active.is_(True),
                models.Run.deleted.is_(False),
                models.Run.trace_state.in_(REPORTING),
                models.Run.trace_at < cutoff,
                health.stale_since.is_(None),
            )
        ).all()
        for run_id, origin, status, trace_at, batch_state, has_row in rows:
            unknown = origin == "trace" and status in ACTIVE
            values = {
                "stale_since": trace_at,
                "stale_reason": stale_reason(origin, trace_at, now, batch_state),
                "stale_status": status if unknown else None,
                "updated_at": now,
            }
            if has_row:
                session.execute(update(health).where(health.run_id == run_id).values(**values))
            else:
                session.add(health(run_id=run_id, cost_tasks=0, cost_unpriced=0, **values))
            if unknown:
                session.execute(
                    update(models.Run)
                    .where(
                        models.Run.id == run_id,
                        models.Run.status == status,
                        models.Run.trace_at == trace_at,
                    )
                    .values(status="UNKNOWN", updated_at=now)
                )
            marked += 1
    return marked


def recover(ctx: AppContext) -> int:
    """Clear the mark of stale runs that reported again (or ended); restore the status of
    those shown UNKNOWN.  How many were cleared."""
    health = models.RunHealth
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(health.run_id, health.stale_status, models.Run.active, models.Run.trace_state)
            .join(models.Run, models.Run.id == health.run_id)
            .where(
                health.stale_since.is_not(None),
                or_(
                    models.Run.trace_at > health.stale_since,
                    models.Run.active.is_(False),
                    models.Run.trace_state.not_in(REPORTING),
                ),
            )
        ).all()
        for run_id, previous, active, trace_state in rows:
            if previous and active and trace_state in REPORTING:
                session.execute(
                    update(models.Run)
                    .where(models.Run.id == run_id, models.Run.status == "UNKNOWN")
                    .values(status=previous, updated_at=utcnow())
                )
            session.execute(
                update(health)
                .where(health.run_id == run_id)
                .values(stale_since=None, stale_reason=None, stale_status=None)
            )
    return len(rows)


# --- waiting tasks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Waiting:
    run_id: str
    task_id: int
    native_id: str
    workspace_id: int
    credentials_id: str
    region: str


def _waiting(session: Any, now: datetime, after: timedelta) -> list[_Waiting]:
    task, health, run = models.RunTask, models.TaskHealth, models.Run
    rows = session.execute(
        select(
            task.run_id,
            task.task_id,
            task.native_id,
            run.workspace_id,
            run.credentials_id,
            run.region,
        )
        .join(run, run.id == task.run_id)
        .outerjoin(health, and_(health.run_id == task.run_id, health.task_id == task.task_id))
        .where(
            run.active.is_(True),
            run.credentials_id.is_not(None),
            task.status == "SUBMITTED",
            task.native_id.is_not(None),
            func.coalesce(task.submit, task.created_at) < now - after,
            or_(health.waiting_checked_at.is_(None), health.waiting_checked_at < now - RECHECK),
        )
        .limit(TASKS_PER_CYCLE)
    ).all()
    return [_Waiting(*row) for row in rows]


def explain_waiting(
    ctx: AppContext, session_for: SessionFor, now: datetime, stats: HealthStats
) -> None:
    """Explain tasks waiting longer than the setting (see the module docstring)."""
    after = timedelta(minutes=ctx.settings.runnable_after_minutes)
    with ctx.db.transaction() as session:
        waiting = _waiting(session, now, after)
    groups: dict[tuple[int, str, str], list[_Waiting]] = defaultdict(list)
    for item in waiting:
        groups[(item.workspace_id, item.credentials_id, item.region)].append(item)
    for (workspace_id, credentials_id, region), items in groups.items():
        try:
            aws = session_for(workspace_id, credentials_id, region)
            found = _explain_group(aws, region, items, stats)
        except AwsAccessDenied as error:
            found = {(i.run_id, i.task_id): (_refused(error), False) for i in items}
        except (AwsError, BatchforgeError) as error:
            log.warning("explaining waiting tasks in %s failed: %s", region, error)
            continue
        _store_waiting(ctx, found, now)
        stats.explained += len(found)


def _refused(error: AwsError) -> str:
    call = f"{error.service}:{error.operation}" if error.service else "an AWS call"
    return f"Could not look at its AWS Batch job: these credentials may not call {call}."


def _explain_group(
    aws: Any, region: str, items: list[_Waiting], stats: HealthStats
) -> dict[tuple[str, int], tuple[str, bool]]:
    batch = aws.client("batch")
    jobs: dict[str, dict[str, Any]] = {}
    ids = sorted({i.native_id for i in items})
    for start in range(0, len(ids), DESCRIBE_BATCH):
        stats.batch_calls += 1
        answer = batch.describe_jobs(jobs=ids[start : start + DESCRIBE_BATCH])
        jobs.update((j["jobId"], j) for j in answer.get("jobs", []))
    runnable = [j for j in jobs.values() if j.get("status") == "RUNNABLE"]
    queues: dict[str, stuck.Queue] = {}
    environments: dict[str, stuck.Environment | None] = {}
    sizes: dict[str, list[stuck.InstanceSize] | None] = {}
    if runnable:
        wanted = sorted({j["jobQueue"] for j in runnable if j.get("jobQueue")})
        for start in range(0, len(wanted), DESCRIBE_BATCH):  # at most 100 names per call
            stats.batch_calls += 1
            chunk = wanted[start : start + DESCRIBE_BATCH]
            for item in batch.describe_job_queues(jobQueues=chunk).get("jobQueues", []):
                queue = stuck.Queue.from_aws(item)
                queues[item["jobQueueArn"]] = queue
                queues[item["jobQueueName"]] = queue
        env_keys = sorted({e for q in queues.values() for e in q.environments})
        for start in range(0, len(env_keys), DESCRIBE_BATCH):
            stats.batch_calls += 1
            chunk = env_keys[start : start + DESCRIBE_BATCH]
            answer = batch.describe_compute_environments(computeEnvironments=chunk)
            for item in answer.get("computeEnvironments", []):
                env = stuck.Environment.from_aws(item)
                environments[item["computeEnvironmentArn"]] = env
                environments[item["computeEnvironmentName"]] = env
        patterns = sorted(
            {p for e in environments.values() if e for p in stuck.family_patterns(e.instance_types)}
        )
        catalog = instance_sizes.catalog(aws, region, patterns) if patterns else {}
        for key, env in environments.items():
            sizes[key] = stuck.sizes_for(env.instance_types, catalog) if env and catalog else None
    out: dict[tuple[str, int], tuple[str, bool]] = {}
    for item in items:
        job = jobs.get(item.native_id)
        if job is None:
            continue
        status = job.get("status", "")
        if status == "RUNNABLE":
            result = stuck.explain(
                stuck.JobNeeds.from_job(job),
                queues.get(job.get("jobQueue", "")),
                environments,
                sizes,
                str(job.get("statusReason") or ""),
            )
            out[(item.run_id, item.task_id)] = (result.message, result.blocked)
        elif status in OTHER_STATES:
            out[(item.run_id, item.task_id)] = (f"Waiting: {OTHER_STATES[status]}.", False)
    return out


def _store_waiting(
    ctx: AppContext, found: dict[tuple[str, int], tuple[str, bool]], now: datetime
) -> None:
    if not found:
        return
    health = models.TaskHealth
    rows = [
        {
            "run_id": run_id,
            "task_id": task_id,
            "waiting_reason": message[:4000],
            "waiting_blocked": blocked,
            "waiting_checked_at": now,
        }
        for (run_id, task_id), (message, blocked) in found.items()
    ]
    with ctx.db.transaction() as session:
        existing = set()
        for run_id in {row["run_id"] for row in rows}:
            ids = [row["task_id"] for row in rows if row["run_id"] == run_id]
            existing |= {
                (run_id, task_id)
                for task_id in session.scalars(
                    select(health.task_id).where(health.run_id == run_id, health.task_id.in_(ids))
                )
            }
        inserts = [r for r in rows if (r["run_id"], r["task_id"]) not in existing]
        updates = [r for r in rows if (r["run_id"], r["task_id"]) in existing]
        if inserts:
            session.execute(health.__table__.insert(), inserts)
        if updates:
            session.execute(update(health), updates)  # by primary key, one batch


# --- read side -------------------------------------------------------------------------------


def task_waiting(session: Any, run_id: str, task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """batchforge's ``waitingReason`` per task id still waiting (status SUBMITTED)."""
    if not task_ids:
        return {}
    health, task = models.TaskHealth, models.RunTask
    rows = session.execute(
        select(health.task_id, health.waiting_reason)
        .join(task, and_(task.run_id == health.run_id, task.task_id == health.task_id))
        .where(
            health.run_id == run_id,
            health.task_id.in_(task_ids),
            health.waiting_reason.is_not(None),
            task.status == "SUBMITTED",
        )
    ).all()
    return {task_id: {"waitingReason": reason} for task_id, reason in rows}


def task_extras(session: Any, run_id: str, task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What batchforge adds to tasks' JSON: ``cost`` (Seqera's field; USD, an estimate),
    ``costNote`` (why there is none) and ``waitingReason`` (why it still waits)."""
    out = run_costs.task_costs(session, run_id, task_ids)
    for task_id, values in task_waiting(session, run_id, task_ids).items():
        out.setdefault(task_id, {}).update(values)
    return out


def run_messages(session: Any, run_id: str) -> list[str]:
    """The run's health messages: why it is stale; how many tasks cannot be placed, why."""
    messages = []
    row = session.get(models.RunHealth, run_id)
    if row is not None and row.stale_reason:
        messages.append(row.stale_reason)
    health, task = models.TaskHealth, models.RunTask
    blocked = session.execute(
        select(func.count(), func.min(health.waiting_reason))
        .join(task, and_(task.run_id == health.run_id, task.task_id == health.task_id))
        .where(
            health.run_id == run_id,
            health.waiting_blocked.is_(True),
            task.status == "SUBMITTED",
        )
    ).one()
    if blocked[0]:
        count = blocked[0]
        messages.append(
            f"{count} task{'s' if count > 1 else ''} cannot be placed by AWS Batch as "
            f"{'they are' if count > 1 else 'it is'} (RUNNABLE): {blocked[1]}"
        )
    return messages


def description(session: Any, run_id: str) -> dict[str, Any]:
    """What batchforge adds to ``GET /workflow/{id}``: ``messages`` (stale, tasks that cannot
    be placed) and the cost estimate (``cost``, ``costCurrency``, ``costIsEstimate``,
    ``costNote``)."""
    return {"messages": run_messages(session, run_id), **run_costs.run_cost(session, run_id)}
