"""Cost estimates of tasks and runs: pure logic (no AWS calls, no database).

A task's estimate is ``hourly price * hours * share``:

- the hourly price of its instance: on-demand Linux in the region (AWS Price List API) when
  Nextflow reports ``priceModel: standard``, the zone's current Spot price
  (``ec2:DescribeSpotPriceHistory``) when it reports ``spot``;
- hours: the task's ``realtime`` (the process's run time, ms), else ``complete - start``; the
  time it queued is not paid for by the task;
- share: the fraction of the instance the task reserved, ``max(cpus / instance vCPUs,
  memory / instance memory)``, at most 1 (other tasks may share the instance; its idle time
  is not counted).

Nextflow's nf-tower plugin sends ``machineType``, ``cloudZone`` and ``priceModel`` for AWS
Batch tasks (``CloudMachineInfo``).  A task without them, or whose price is unknown or could
not be read, has no estimate and says why (:attr:`Estimate.note`), never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CURRENCY = "USD"
ON_DEMAND = "on-demand"
SPOT = "spot"
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$")
# us-east-1a, eu-west-3c, us-gov-west-1a, us-west-2-lax-1a (Local Zone), ap-south-2b
ZONE = re.compile(r"^(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d+)(?:-[a-z]+-\d+)?[a-z]$")
FINAL = frozenset({"COMPLETED", "FAILED", "ABORTED"})
"""Task statuses with a final duration.  CACHED tasks ran in an earlier run: they cost
nothing in this one."""


@dataclass(frozen=True)
class PriceKey:
    """What to price: an on-demand type in a region, or a Spot type in a zone."""

    kind: str  # ON_DEMAND or SPOT
    place: str  # region (on-demand) or availability zone (spot)
    instance_type: str

    @property
    def region(self) -> str:
        return region_of(self.place) or self.place

    @property
    def cache_key(self) -> str:
        return f"{self.kind}/{self.place}/{self.instance_type}"


@dataclass(frozen=True)
class Usage:
    """What a finished task used: where, how long, how much of the instance it reserved."""

    key: PriceKey
    hours: float
    cpus: int | None
    memory_bytes: int | None


@dataclass(frozen=True)
class Estimate:
    """A task's cost in USD, or None with the reason it could not be priced."""

    cost: float | None
    note: str | None = None


def region_of(zone: str) -> str | None:
    """``us-east-1a`` → ``us-east-1`` (None when ``zone`` is not an availability zone)."""
    match = ZONE.match(zone or "")
    return match.group("region") if match else None


def _hours(task: Mapping[str, Any]) -> float | None:
    realtime = task.get("realtime")
    if isinstance(realtime, int | float) and not isinstance(realtime, bool) and realtime >= 0:
        return float(realtime) / 3_600_000
    start, complete = task.get("start"), task.get("complete")
    if isinstance(start, datetime) and isinstance(complete, datetime) and complete >= start:
        return (complete - start).total_seconds() / 3600
    return None


def usage_of(task: Mapping[str, Any]) -> Usage | Estimate:
    """The usage of a task to price (fields as in Seqera's ``Task``; ``start``/``complete``
    as datetimes), or an :class:`Estimate` saying why it has none."""
    status = task.get("status")
    if status == "CACHED":
        return Estimate(0.0, "cached: it ran in an earlier run")
    if status not in FINAL:
        return Estimate(None, "not finished")
    machine = task.get("machineType")
    if not isinstance(machine, str) or not machine:
        return Estimate(None, "no machineType reported (Nextflow reports it for AWS Batch tasks)")
    if not INSTANCE_TYPE.match(machine):
        return Estimate(None, f"machineType {machine[:40]!r} is not an EC2 instance type")
    zone = task.get("cloudZone")
    region = region_of(zone) if isinstance(zone, str) else None
    if region is None:
        return Estimate(None, "no cloudZone reported: the region of the instance is unknown")
    model = task.get("priceModel") or "standard"
    if model not in ("standard", "spot"):
        return Estimate(None, f"unknown priceModel {str(model)[:20]!r}")
    hours = _hours(task)
    if hours is None:
        return Estimate(None, "no run time reported (realtime, or start and complete)")
    key = (
        PriceKey(SPOT, str(zone), machine)
        if model == "spot"
        else PriceKey(ON_DEMAND, region, machine)
    )
    cpus = task.get("cpus")
    memory = task.get("memory")
    return Usage(
        key=key,
        hours=hours,
        cpus=cpus if isinstance(cpus, int) and cpus > 0 else None,
        memory_bytes=memory if isinstance(memory, int) and memory > 0 else None,
    )


def share(usage: Usage, vcpus: int | None, memory_mib: int | None) -> float:
    """The fraction of the instance the task reserved (1 when nothing says less)."""
    parts = []
    if usage.cpus and vcpus:
        parts.append(usage.cpus / vcpus)
    if usage.memory_bytes and memory_mib:
        parts.append(usage.memory_bytes / (memory_mib * 1024 * 1024))
    return min(max(parts), 1.0) if parts else 1.0


def estimate(
    usage: Usage, usd_per_hour: float | None, vcpus: int | None, memory_mib: int | None
) -> Estimate:
    """The task's cost from the instance's hourly price and size."""
    if usd_per_hour is None:
        return Estimate(None, "no price")
    fraction = share(usage, vcpus, memory_mib)
    note = None if (vcpus or memory_mib) else "instance size unknown: the whole instance counted"
    return Estimate(round(usd_per_hour * usage.hours * fraction, 6), note)


def run_note(unpriced: Mapping[str, int]) -> str | None:
    """One line on the tasks a run's estimate leaves out (reason → count), most first."""
    if not unpriced:
        return None
    parts = [
        f"{count} task{'s' if count > 1 else ''}: {reason}"
        for reason, count in sorted(unpriced.items(), key=lambda item: (-item[1], item[0]))
    ]
    return "Not priced, so not in the estimate: " + "; ".join(parts[:5])
