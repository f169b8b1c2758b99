"""The run tracker: polls active head jobs in AWS Batch and records what changed.

A cycle is fetch → lease → work → guarded apply:

- **lease**: active runs nobody holds are claimed by this tracker (a lease in the row, for
  :data:`LEASE_SECONDS`).  On PostgreSQL candidates are selected ``FOR UPDATE SKIP LOCKED`` so
  two replicas claiming at once split the runs; on SQLite a guarded UPDATE takes only rows still
  free.  Leases are renewed in one UPDATE when half expired, not every cycle; runs this
  server cannot poll at all (their credentials do not decrypt with its key) are released in
  the same cycle, never kept.
- **work**: DescribeJobs with at most 100 ids per call, per (credentials, region).  Throttling
  stops the cycle; the :class:`RunTracker` thread backs off exponentially with jitter.
- **apply**: a run is written only when DescribeJobs' answer differs from the stored
  fingerprint (``Run.batch_state``), guarded by the lease.  A cycle in which nothing changed
  writes nothing (lease renewals apart).

Interrupted launches (``submit_state="intent"`` with an expired lease) are reconciled here, and
the Secrets Manager copies of ended runs are deleted (:mod:`batchforge.services.run_secrets`;
the background thread also sweeps for leftovers every ``secrets_sweep_interval``).
A run seen ending gets its task jobs still alive terminated in the same cycle
(:mod:`batchforge.services.run_tasks`: one ListJobs per ending run, none when nothing ended).
Last, the run health step (:mod:`batchforge.services.run_health`): stale runs, tasks waiting
in RUNNABLE explained, cost estimates.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from batchforge.aws.session import AwsSession
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import AwsAccessDenied, AwsError, BatchforgeError, ConfigurationError
from batchforge.runs.states import (
    TRACE_COMPLETED,
    Observation,
    observe,
    status_after_batch,
    vanished,
)
from batchforge.services import compute_envs, run_health, run_secrets, run_tasks
from batchforge.services.background import BackgroundLoop
from batchforge.services.context import AppContext
from batchforge.services.worker_identity import earlier_incarnation

log = logging.getLogger("batchforge.runs")

LEASE_SECONDS = 120
DESCRIBE_BATCH = 100
CLAIM_LIMIT = 20_000
THROTTLED = {"TooManyRequestsException", "ThrottlingException", "Throttling"}


@dataclass
class CycleStats:
    claimed: int = 0
    polled: int = 0
    describe_calls: int = 0
    changed: int = 0
    reconciled: int = 0
    secrets_cleaned: int = 0
    tasks_terminated: int = 0
    throttled: bool = False
    health: run_health.HealthStats | None = None


@dataclass(frozen=True)
class Tracked:
    id: str
    workspace_id: int
    credentials_id: str | None
    region: str
    job_id: str
    batch_state: str | None
    lease_until: datetime | None


def _free() -> Any:
    return or_(models.Run.lease_owner.is_(None), models.Run.lease_until < utcnow())


def claim(ctx: AppContext, owner: str, limit: int = CLAIM_LIMIT) -> int:
    """Lease up to ``limit`` free active runs with a job id; how many were claimed.  Runs
    leased by an earlier incarnation of ``owner``'s worker identity (this server before a
    restart) count as free: they are taken back at once, not when their lease expires."""
    free = or_(_free(), earlier_incarnation(models.Run.lease_owner, owner))
    with ctx.db.transaction() as session:
        query = (
            select(models.Run.id)
            .where(models.Run.active.is_(True), models.Run.job_id.is_not(None), free)
            .order_by(models.Run.id)
            .limit(limit)
        )
        if ctx.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query).all())
        if not ids:
            return 0
        claimed = 0
        until = utcnow() + timedelta(seconds=LEASE_SECONDS)
        for start in range(0, len(ids), 500):
            result = session.execute(
                update(models.Run)
                .where(models.Run.id.in_(ids[start : start + 500]), free)
                .values(lease_owner=owner, lease_until=until)
            )
            claimed += result.rowcount  # type: ignore[attr-defined]
        return claimed


def owned(ctx: AppContext, owner: str) -> list[Tracked]:
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(
                models.Run.id,
                models.Run.workspace_id,
                models.Run.credentials_id,
                models.Run.region,
                models.Run.job_id,
                models.Run.batch_state,
                models.Run.lease_until,
            ).where(models.Run.active.is_(True), models.Run.lease_owner == owner)
        ).all()
    return [Tracked(*row) for row in rows if row[4]]


def _renew(ctx: AppContext, owner: str, runs: list[Tracked]) -> None:
    """One UPDATE renewing this owner's leases, only once they are half expired."""
    soon = utcnow() + timedelta(seconds=LEASE_SECONDS / 2)
    if not any(r.lease_until is None or r.lease_until < soon for r in runs):
        return
    with ctx.db.transaction() as session:
        session.execute(
            update(models.Run)
            .where(models.Run.active.is_(True), models.Run.lease_owner == owner)
            .values(lease_until=utcnow() + timedelta(seconds=LEASE_SECONDS))
        )


def release(ctx: AppContext, owner: str, run_ids: list[str]) -> int:
    """Give up this owner's leases of ``run_ids`` (work it cannot do, so that a replica that
    can takes it at once); how many were released.  A lease is never kept, nor renewed, for
    a run its tracker cannot poll."""
    if not run_ids:
        return 0
    with ctx.db.transaction() as session:
        result = session.execute(
            update(models.Run)
            .where(models.Run.id.in_(run_ids), models.Run.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _values(obs: Observation) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": obs.status,
        "batch_state": obs.fingerprint,
        "updated_at": utcnow(),
    }
    if obs.start:
        values["start"] = obs.start
    if obs.log_stream:
        values["log_stream"] = obs.log_stream
    if obs.terminal:
        values.update(
            active=False,
            complete=obs.complete or utcnow(),
            exit_status=obs.exit_status,
            error_message=obs.error,
            lease_owner=None,
            lease_until=None,
            tasks_state=run_tasks.PENDING,  # its live task jobs: terminated this cycle
            tasks_at=utcnow(),
        )
    return values


def apply(ctx: AppContext, owner: str, changes: list[tuple[str, Observation]]) -> int:
    """Record observations of runs this tracker still holds (guarded by the lease), in one
    transaction; a terminal run is released.  How many runs were updated."""
    if not changes:
        return 0
    updated = 0
    with ctx.db.transaction() as session:
        traced = {
            run_id: (trace_state, status)
            for run_id, trace_state, status in session.execute(
                select(models.Run.id, models.Run.trace_state, models.Run.status).where(
                    models.Run.id.in_([run_id for run_id, _ in changes]),
                    models.Run.trace_state.is_not(None),
                )
            )
        }
        for run_id, obs in changes:
            values = _values(obs)
            if run_id in traced:
                _with_trace(values, obs, *traced[run_id])
            result = session.execute(
                update(models.Run)
                .where(
                    models.Run.id == run_id,
                    models.Run.lease_owner == owner,
                    models.Run.active.is_(True),
                )
                .values(**values)
            )
            updated += result.rowcount  # type: ignore[attr-defined]
    return updated


def _with_trace(values: dict[str, Any], obs: Observation, trace_state: str, status: str) -> None:
    """Batch's observation joined with the run's trace (the rule: runs/states.py): after a
    trace complete, the trace's status, exit status, error and end time stay."""
    values["status"] = status_after_batch(obs.status, trace_state, status)
    if trace_state == TRACE_COMPLETED:
        for key in ("exit_status", "error_message", "complete"):
            values.pop(key, None)


def _poll_group(
    ctx: AppContext, owner: str, aws: AwsSession, runs: list[Tracked], stats: CycleStats
) -> None:
    batch = aws.client("batch")
    for start in range(0, len(runs), DESCRIBE_BATCH):
        chunk = runs[start : start + DESCRIBE_BATCH]
        stats.describe_calls += 1
        jobs = batch.describe_jobs(jobs=[r.job_id for r in chunk]).get("jobs", [])
        by_id = {job["jobId"]: job for job in jobs}
        stats.polled += len(chunk)
        changes = []
        for run in chunk:
            job = by_id.get(run.job_id)
            obs = observe(job) if job is not None else vanished(run.job_id)
            if obs.fingerprint == run.batch_state:
                continue
            if obs.terminate:
                _terminate(batch, run.job_id, obs.error or "misconfigured")
            changes.append((run.id, obs))
        stats.changed += apply(ctx, owner, changes)


def _terminate(batch: Any, job_id: str, reason: str) -> None:
    try:
        batch.terminate_job(jobId=job_id, reason=reason[:250])
    except AwsError as error:
        log.warning("could not terminate head job %s: %s", job_id, error)


def run_cycle(
    ctx: AppContext, owner: str | None = None, claim_limit: int = CLAIM_LIMIT
) -> CycleStats:
    """One tracker cycle (see the module docstring).  Raises nothing on AWS errors: a
    throttled cycle sets ``stats.throttled``; other errors are logged per group."""
    owner = owner or ctx.worker_id
    stats = CycleStats()
    stats.claimed = claim(ctx, owner, claim_limit)
    runs = owned(ctx, owner)
    if runs:
        _renew(ctx, owner, runs)
    groups: dict[tuple[int, str | None, str], list[Tracked]] = defaultdict(list)
    for run in runs:
        groups[(run.workspace_id, run.credentials_id, run.region)].append(run)
    sessions = compute_envs.SessionCache(ctx)
    for (workspace_id, credentials_id, region), members in groups.items():
        try:
            _poll_group(
                ctx, owner, sessions.get(workspace_id, credentials_id, region), members, stats
            )
        except AwsError as error:
            if error.aws_code in THROTTLED:
                stats.throttled = True
                break
            log.warning("polling runs in %s failed: %s", region, error)
        except ConfigurationError as error:  # e.g. a secret this server's key cannot open
            released = release(ctx, owner, [run.id for run in members])
            log.warning("released %d runs this server cannot poll: %s", released, error)
        except BatchforgeError as error:
            log.warning("polling runs in %s failed: %s", region, error)
    stats.reconciled = reconcile_intents(ctx, owner, sessions)
    stats.tasks_terminated = run_tasks.sweep(ctx, sessions.get)
    stats.secrets_cleaned = run_secrets.clean_finished(ctx, sessions.get)
    if not stats.throttled:  # stale runs, waiting tasks explained, cost estimates
        stats.health = run_health.check(ctx, sessions.get)
    return stats


# --- interrupted launches --------------------------------------------------------------------


def _intent_free(owner: str) -> Any:
    """An interrupted launch: its lease expired, or its launcher was an earlier incarnation
    of this server (dead, since this process holds the identity now): settled at once."""
    return or_(
        models.Run.lease_until < utcnow(), earlier_incarnation(models.Run.lease_owner, owner)
    )


def _claim_intent(ctx: AppContext, run_id: str, owner: str) -> bool:
    with ctx.db.transaction() as session:
        result = session.execute(
            update(models.Run)
            .where(
                models.Run.id == run_id,
                models.Run.submit_state == "intent",
                _intent_free(owner),
            )
            .values(lease_owner=owner, lease_until=utcnow() + timedelta(seconds=LEASE_SECONDS))
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


def _settle_intent(ctx: AppContext, run_id: str, owner: str, **values: Any) -> None:
    with ctx.db.transaction() as session:
        session.execute(
            update(models.Run)
            .where(
                models.Run.id == run_id,
                models.Run.submit_state == "intent",
                models.Run.lease_owner == owner,
            )
            .values(updated_at=utcnow(), lease_owner=None, lease_until=None, **values)
        )


def reconcile_intents(
    ctx: AppContext, owner: str, sessions: compute_envs.SessionCache | None = None
) -> int:
    """Settle launches interrupted between recording the intent and recording the job id.

    The job is looked up by its (unique, deterministic) name on the head queue with
    ``batch:ListJobs``: found → tracked; not found → FAILED (it never reached AWS Batch).
    Without permission for ListJobs the run is UNKNOWN.  Never submits.
    """
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(
                models.Run.id,
                models.Run.workspace_id,
                models.Run.credentials_id,
                models.Run.region,
                models.Run.job_queue,
                models.Run.job_name,
                models.Run.status,
            ).where(models.Run.submit_state == "intent", _intent_free(owner))
        ).all()
    sessions = sessions or compute_envs.SessionCache(ctx)
    settled = 0
    for run_id, workspace_id, credentials_id, region, queue, name, status in rows:
        if not _claim_intent(ctx, run_id, owner):
            continue
        try:
            batch = sessions.get(workspace_id, credentials_id, region).client("batch")
            found = batch.list_jobs(
                jobQueue=queue, filters=[{"name": "JOB_NAME", "values": [name]}]
            ).get("jobSummaryList", [])
        except AwsAccessDenied:
            _settle_intent(
                ctx,
                run_id,
                owner,
                submit_state="unknown",
                status="UNKNOWN",
                active=False,
                complete=utcnow(),
                error_message="The launch was interrupted before the head job's id was "
                "recorded, and these credentials may not call batch:ListJobs to find the job "
                f"'{name}' by name. It was not submitted again; check the head queue '{queue}'"
                " in AWS Batch, or grant batch:ListJobs so batchforge can find it.",
            )
            settled += 1
            continue
        except BatchforgeError as error:
            log.warning("reconciling launch %s failed, will retry: %s", run_id, error)
            continue
        exact = [job for job in found if job.get("jobName") == name]
        if exact and status == "CANCELLED":  # cancelled while its launch was interrupted
            _terminate(batch, exact[0]["jobId"], "Cancelled in batchforge")
            _settle_intent(
                ctx,
                run_id,
                owner,
                submit_state="submitted",
                job_id=exact[0]["jobId"],
                tasks_state=run_tasks.PENDING,
                tasks_at=utcnow(),
            )
        elif exact:
            _settle_intent(
                ctx,
                run_id,
                owner,
                submit_state="submitted",
                job_id=exact[0]["jobId"],
                error_message=None,
            )
        elif status == "CANCELLED":  # cancelled, and it never reached AWS Batch: stays so
            _settle_intent(ctx, run_id, owner, submit_state="failed")
        else:
            _settle_intent(
                ctx,
                run_id,
                owner,
                submit_state="failed",
                status="FAILED",
                active=False,
                complete=utcnow(),
                error_message="The launch was interrupted before the head job reached AWS "
                f"Batch (no job '{name}' on '{queue}'). It was not submitted; launch again.",
            )
        settled += 1
    return settled


class RunTracker(BackgroundLoop):
    """The server's background thread polling active runs every ``interval`` seconds; backs
    off (doubling, with jitter, up to 8x) while AWS throttles."""

    name = "run-tracker"

    def __init__(self, ctx: AppContext, interval: float | None = None):
        super().__init__(interval or ctx.settings.tracker_interval)
        self.ctx = ctx
        self.backoff = 1.0
        self.next_sweep = 0.0  # monotonic time of the next Secrets Manager sweep

    def cycle(self) -> float:
        stats = run_cycle(self.ctx)
        if time.monotonic() >= self.next_sweep:
            self.next_sweep = time.monotonic() + self.ctx.settings.secrets_sweep_interval
            run_secrets.sweep(self.ctx)
        self.backoff = min(self.backoff * 2, 8.0) if stats.throttled else 1.0
        return self._next_delay()

    def delay_after_error(self) -> float:
        return self._next_delay()

    def _next_delay(self) -> float:
        """The interval, stretched by the throttling back-off, with jitter."""
        return self.interval * self.backoff * random.uniform(0.8, 1.2)
