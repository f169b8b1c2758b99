"""How a task (Seqera's ``Task`` JSON) and the metrics are shown to people, in the CLI and the
web UI alike: the sections of a task's detail (as ``tw runs view … task`` groups them), each
field's label and unit, and the values in human units.

Units: ``ms`` (durations), ``bytes``, ``percent``, ``exit`` (Nextflow's 2147483647 means "not
known yet"), ``when`` (ISO date-times as sent by Nextflow), ``usd``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from batchforge.units import format_duration, format_size, format_time

UNKNOWN_EXIT = 2147483647  # Integer.MAX_VALUE: Nextflow's exit status while it is not known

Field = tuple[str, str, str | None]  # (Task key, label, unit)

GENERAL: tuple[Field, ...] = (
    ("taskId", "Task ID", None),
    ("process", "Process", None),
    ("name", "Name", None),
    ("tag", "Tag", None),
    ("status", "Status", None),
    ("exit", "Exit status", "exit"),
    ("attempt", "Attempt", None),
    ("hash", "Hash", None),
    ("workdir", "Work directory", None),
    ("nativeId", "AWS Batch job", None),
    ("container", "Container", None),
    ("executor", "Executor", None),
    ("queue", "Queue", None),
    ("errorAction", "Error action", None),
)
EXECUTION_TIME: tuple[Field, ...] = (
    ("submit", "Submitted", "when"),
    ("start", "Started", "when"),
    ("complete", "Completed", "when"),
    ("duration", "Duration", "ms"),
    ("realtime", "Realtime", "ms"),
)
RESOURCES_REQUESTED: tuple[Field, ...] = (
    ("cpus", "CPUs", None),
    ("memory", "Memory", "bytes"),
    ("disk", "Disk", "bytes"),
    ("time", "Time limit", "ms"),
    ("machineType", "Machine type", None),
    ("cloudZone", "Zone", None),
    ("priceModel", "Price model", None),
    ("cost", "Cost (estimate)", "usd"),
)
RESOURCES_USAGE: tuple[Field, ...] = (
    ("pcpu", "CPU", "percent"),
    ("pmem", "Memory (% of host)", "percent"),
    ("rss", "RSS", "bytes"),
    ("peakRss", "Peak RSS", "bytes"),
    ("vmem", "Virtual memory", "bytes"),
    ("peakVmem", "Peak virtual memory", "bytes"),
    ("rchar", "Read (rchar)", "bytes"),
    ("wchar", "Written (wchar)", "bytes"),
    ("readBytes", "Read from disk", "bytes"),
    ("writeBytes", "Written to disk", "bytes"),
    ("syscr", "Read calls", None),
    ("syscw", "Write calls", None),
    ("volCtxt", "Voluntary context switches", None),
    ("invCtxt", "Involuntary context switches", None),
)
SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    ("General", GENERAL),
    ("Execution time", EXECUTION_TIME),
    ("Resources requested", RESOURCES_REQUESTED),
    ("Resources usage", RESOURCES_USAGE),
)

# The task states, in a run's counters, and which of them are final.
COUNTS = ("pending", "submitted", "running", "succeeded", "cached", "failed", "aborted")
TASK_DONE = ("CACHED", "COMPLETED", "FAILED", "ABORTED")

# (WorkflowMetrics key, label, unit) of the per-process metrics Nextflow sends at completion.
METRICS: tuple[Field, ...] = (
    ("cpu", "CPU (%)", "percent"),
    ("cpuUsage", "CPU (% of requested)", "percent"),
    ("mem", "Memory (peak RSS)", "bytes"),
    ("memUsage", "Memory (% of requested)", "percent"),
    ("time", "Duration", "ms"),
    ("timeUsage", "Duration (% of requested)", "percent"),
    ("reads", "Read", "bytes"),
    ("writes", "Written", "bytes"),
)


def show(value: Any, unit: str | None) -> str:
    """``value`` in ``unit`` for people; empty when there is none."""
    if value is None or value == "":
        return ""
    if unit == "exit":
        return "" if value == UNKNOWN_EXIT else str(value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return format_time(value) if unit == "when" else str(value)
    if unit == "bytes":
        return format_size(value)
    if unit == "ms":
        return format_duration(value)
    if unit == "percent":
        return f"{float(value):.0f}%" if float(value).is_integer() else f"{float(value):.1f}%"
    if unit == "usd":
        return f"${float(value):,.4f}" if value < 1 else f"${float(value):,.2f}"
    return str(value)


def rows(task: Mapping[str, Any], fields: Sequence[Field]) -> list[tuple[str, str]]:
    """(label, value) of ``task``'s ``fields``, in human units (empty where unknown)."""
    return [(label, show(task.get(key), unit)) for key, label, unit in fields]
