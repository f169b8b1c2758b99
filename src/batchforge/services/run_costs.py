"""Cost estimates of a run's finished tasks, and of the run (a step of the tracker cycle).

Per cycle, runs whose trace changed since they were last priced (``run.trace_at`` after
``run_health.cost_watermark``) get their newly finished tasks priced (:mod:`runs.cost`):
prices come from :class:`PriceCache` (the database: shared by replicas, kept across
restarts) and, when missing or expired, from AWS with the run's credentials, once per
(kind, region or zone, type) per period (``settings.price_cache_seconds``; Spot prices an
hour at most).  ``pricing:GetProducts`` and ``ec2:DescribeSpotPriceHistory`` are extras beyond
the seed's policy (``iam/extras.py``): when refused, the tasks say so instead of a number.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from batchforge.aws import pricing
from batchforge.aws.session import AwsSession
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import AwsAccessDenied, AwsError, BatchforgeError
from batchforge.runs import cost
from batchforge.services import instance_sizes
from batchforge.services.context import AppContext

log = logging.getLogger("batchforge.runs")

RUNS_PER_CYCLE = 50
CHUNK = 500
RESCAN_MARGIN = timedelta(minutes=5)
SPOT_TTL_SECONDS = 3600.0
REFUSED_ON_DEMAND = (
    "could not price: these credentials may not call pricing:GetProducts (AWS Price List; an "
    "extra permission beyond the seed's policy, section OptionalExtraCostEstimates)"
)
REFUSED_SPOT = (
    "could not price: these credentials may not call ec2:DescribeSpotPriceHistory (an extra "
    "permission beyond the seed's policy, section OptionalExtraCostEstimates)"
)
NO_CREDENTIALS = "could not price: the run was launched outside batchforge (no AWS credentials)"
FINAL = (*cost.FINAL, "CACHED")

SessionFor = Any  # Callable[[int, str | None, str], AwsSession]


@dataclass
class CostStats:
    runs: int = 0
    priced: int = 0
    unpriced: int = 0
    price_calls: int = 0


@dataclass(frozen=True)
class _Run:
    id: str
    workspace_id: int
    credentials_id: str | None
    trace_at: datetime
    watermark: datetime | None


def _candidates(session: Any) -> list[_Run]:
    health = models.RunHealth
    rows = session.execute(
        select(
            models.Run.id,
            models.Run.workspace_id,
            models.Run.credentials_id,
            models.Run.trace_at,
            health.cost_watermark,
        )
        .outerjoin(health, health.run_id == models.Run.id)
        .where(
            models.Run.trace_at.is_not(None),
            or_(health.cost_watermark.is_(None), health.cost_watermark < models.Run.trace_at),
        )
        .order_by(models.Run.trace_at)
        .limit(RUNS_PER_CYCLE)
    ).all()
    return [_Run(*row) for row in rows]


def _unpriced_tasks(session: Any, run: _Run) -> list[dict[str, Any]]:
    task, health = models.RunTask, models.TaskHealth
    conditions = [task.run_id == run.id, task.status.in_(FINAL)]
    if run.watermark is not None:
        conditions.append(task.updated_at > run.watermark - RESCAN_MARGIN)
    rows = session.execute(
        select(
            task.task_id,
            task.status,
            task.cpus,
            task.memory,
            task.realtime,
            task.start,
            task.complete,
            task.data,
        )
        .outerjoin(health, and_(health.run_id == task.run_id, health.task_id == task.task_id))
        .where(*conditions, health.cost.is_(None), health.cost_note.is_(None))
    ).all()
    out = []
    for task_id, status, cpus, memory, realtime, start, complete, data in rows:
        values = {k: (data or {}).get(k) for k in ("machineType", "cloudZone", "priceModel")}
        values.update(
            taskId=task_id,
            status=status,
            cpus=cpus,
            memory=memory,
            realtime=realtime,
            start=start,
            complete=complete,
        )
        out.append(values)
    return out


class PriceBook:
    """Hourly prices for one cycle: the database cache first, then AWS (counted)."""

    def __init__(self, ctx: AppContext, stats: CostStats):
        self.ctx = ctx
        self.stats = stats
        self.refused: set[tuple[str | None, str]] = set()  # (credentials, kind) refused
        # this cycle's answers, by (price key, credentials)
        self.seen: dict[tuple[str, str | None], tuple[float | None, str | None]] = {}

    def hourly(
        self, key: cost.PriceKey, aws: AwsSession | None, credentials_id: str | None
    ) -> tuple[float | None, str | None]:
        """USD/hour of ``key``, or None and why (asked once per cycle)."""
        memo = (key.cache_key, credentials_id)
        if memo not in self.seen:
            self.seen[memo] = self._lookup(key, aws, credentials_id)
        return self.seen[memo]

    def _lookup(
        self, key: cost.PriceKey, aws: AwsSession | None, credentials_id: str | None
    ) -> tuple[float | None, str | None]:
        now = utcnow()
        with self.ctx.db.transaction() as session:
            row = session.get(models.PriceCache, key.cache_key)
            if row is not None and row.expires_at > now:
                return row.usd_per_hour, row.note
        if aws is None:
            return None, NO_CREDENTIALS
        refused = REFUSED_SPOT if key.kind == cost.SPOT else REFUSED_ON_DEMAND
        if (credentials_id, key.kind) in self.refused:
            return None, refused
        self.stats.price_calls += 1
        try:
            if key.kind == cost.SPOT:
                price = pricing.spot_hourly(aws, key.instance_type, key.place, key.region)
                note = (
                    None
                    if price is not None
                    else (f"AWS has no Spot price history for {key.instance_type} in {key.place}")
                )
            else:
                price = pricing.on_demand_hourly(aws, key.instance_type, key.region)
                note = (
                    None
                    if price is not None
                    else (
                        f"the AWS Price List has no on-demand Linux price for {key.instance_type} "
                        f"in {key.region}"
                    )
                )
        except AwsAccessDenied:
            self.refused.add((credentials_id, key.kind))
            return None, refused
        except AwsError as error:
            log.warning("pricing %s failed: %s", key.cache_key, error)
            return None, None  # not decided: tried again next cycle
        ttl = self.ctx.settings.price_cache_seconds
        if key.kind == cost.SPOT:
            ttl = min(ttl, SPOT_TTL_SECONDS)
        self._store(key.cache_key, price, note, now + timedelta(seconds=ttl))
        return price, note

    def _store(self, key: str, price: float | None, note: str | None, until: datetime) -> None:
        with self.ctx.db.transaction() as session:
            row = session.get(models.PriceCache, key)
            if row is None:
                session.add(
                    models.PriceCache(
                        key=key,
                        usd_per_hour=price,
                        note=note,
                        fetched_at=utcnow(),
                        expires_at=until,
                    )
                )
            else:
                row.usd_per_hour, row.note = price, note
                row.fetched_at, row.expires_at = utcnow(), until


def _sizes(
    aws: AwsSession | None, region: str, instance_type: str
) -> tuple[int | None, int | None]:
    if aws is None:
        return None, None
    found = instance_sizes.catalog(aws, region, [instance_type])
    size = (found or {}).get(instance_type)
    return (size.vcpus, size.memory_mib) if size else (None, None)


def _price_run(
    ctx: AppContext, run: _Run, book: PriceBook, session_for: SessionFor
) -> tuple[dict[int, cost.Estimate], bool]:
    """Estimates of the run's newly finished tasks (task id → estimate), and whether every
    one was decided (False when AWS failed transiently: those are tried again)."""
    with ctx.db.transaction() as session:
        tasks = _unpriced_tasks(session, run)
    results: dict[int, cost.Estimate] = {}
    sizes: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    decided = True
    for task in tasks:
        usage = cost.usage_of(task)
        if isinstance(usage, cost.Estimate):
            results[task["taskId"]] = usage
            continue
        aws = None
        if run.credentials_id:
            try:
                aws = session_for(run.workspace_id, run.credentials_id, usage.key.region)
            except BatchforgeError as error:
                log.warning("run %s: no AWS session to price with: %s", run.id, error)
        price, note = book.hourly(usage.key, aws, run.credentials_id)
        if price is None and note is None:
            decided = False  # AWS failed transiently: priced next cycle
            continue
        if price is None:
            results[task["taskId"]] = cost.Estimate(None, note)
            continue
        where = (usage.key.region, usage.key.instance_type)
        if where not in sizes:
            sizes[where] = _sizes(aws, *where)
        vcpus, memory = sizes[where]
        results[task["taskId"]] = cost.estimate(usage, price, vcpus, memory)
    return results, decided


def _record(ctx: AppContext, run: _Run, results: dict[int, cost.Estimate], advance: bool) -> None:
    """Write the task estimates and the run's totals (one transaction); ``advance``: the
    run's trace up to ``run.trace_at`` is priced."""
    health = models.TaskHealth
    rows = [
        {"run_id": run.id, "task_id": task_id, "cost": est.cost, "cost_note": _note(est)}
        for task_id, est in results.items()
    ]
    with ctx.db.transaction() as session:
        existing: set[int] = set()
        ids = list(results)
        for start in range(0, len(ids), CHUNK):
            existing.update(
                session.scalars(
                    select(health.task_id).where(
                        health.run_id == run.id, health.task_id.in_(ids[start : start + CHUNK])
                    )
                )
            )
        inserts = [
            {**row, "waiting_blocked": False} for row in rows if row["task_id"] not in existing
        ]
        updates = [row for row in rows if row["task_id"] in existing]
        if inserts:
            session.execute(health.__table__.insert(), inserts)
        if updates:
            session.execute(update(health), updates)  # by primary key, one batch
        _totals(session, run, advance)


def _note(estimate: cost.Estimate) -> str | None:
    return (estimate.note or "")[:500] or None


def _totals(session: Any, run: _Run, advance: bool) -> None:
    health = models.TaskHealth
    total, priced = session.execute(
        select(func.sum(health.cost), func.count(health.cost)).where(health.run_id == run.id)
    ).one()
    notes = Counter(
        dict(
            session.execute(
                select(health.cost_note, func.count())
                .where(
                    health.run_id == run.id, health.cost.is_(None), health.cost_note.is_not(None)
                )
                .group_by(health.cost_note)
            ).all()
        )
    )
    values = {
        "cost": float(total) if priced else None,
        "cost_tasks": int(priced or 0),
        "cost_unpriced": sum(notes.values()),
        "cost_note": cost.run_note(notes),
        "cost_watermark": run.trace_at if advance else run.watermark,
        "updated_at": utcnow(),
    }
    row = session.get(models.RunHealth, run.id)
    if row is None:
        session.add(models.RunHealth(run_id=run.id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)


def price_tasks(ctx: AppContext, session_for: SessionFor) -> CostStats:
    """Price the newly finished tasks of runs whose trace changed; update run totals."""
    stats = CostStats()
    book = PriceBook(ctx, stats)
    with ctx.db.transaction() as session:
        runs = _candidates(session)
    for run in runs:
        results, decided = _price_run(ctx, run, book, session_for)
        _record(ctx, run, results, decided)
        stats.runs += 1
        stats.priced += sum(1 for e in results.values() if e.cost is not None)
        stats.unpriced += sum(1 for e in results.values() if e.cost is None)
    return stats


# --- read side -------------------------------------------------------------------------------


def task_costs(session: Any, run_id: str, task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``cost`` (USD) or ``costNote`` per task id, for the task JSON."""
    if not task_ids:
        return {}
    health = models.TaskHealth
    rows = session.execute(
        select(health.task_id, health.cost, health.cost_note).where(
            health.run_id == run_id, health.task_id.in_(task_ids)
        )
    ).all()
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    for task_id, value, note in rows:
        if value is not None:
            out[task_id]["cost"] = value
        if note:
            out[task_id]["costNote"] = note
    return dict(out)


def run_total(session: Any, run_id: str) -> float | None:
    """The run's estimate in USD (None while no task was priced)."""
    row = session.get(models.RunHealth, run_id)
    return round(row.cost, 4) if row is not None and row.cost is not None else None


def run_cost(session: Any, run_id: str) -> dict[str, Any]:
    """The run's estimate for ``DescribeWorkflowResponse``: ``cost``, ``costCurrency``,
    ``costIsEstimate`` (Seqera's fields) and batchforge's ``costNote`` (what it leaves out)."""
    row = session.get(models.RunHealth, run_id)
    if row is None or (row.cost is None and not row.cost_note):
        return {}
    out: dict[str, Any] = {"costCurrency": cost.CURRENCY, "costIsEstimate": True}
    if row.cost is not None:
        out["cost"] = round(row.cost, 4)
    if row.cost_note:
        out["costNote"] = row.cost_note
    return out
