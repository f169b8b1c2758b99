"""What a run's trace shows in the CLI, after ``tw runs view``: the processes' progress, the
task table, the metrics per process (``runs view RUN --processes --tasks --metrics``), one
task (``runs task RUN TASK_ID``) and a task's log (``runs logs RUN --task TASK_ID``).

With ``-o json`` each prints the API's JSON (Seqera's shapes) unchanged.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli.common import OutputFormat, State, emit_json, emit_table, state

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient
    from batchforge.schemas.workflows import LogPage

PROCESS_COUNTS = ("pending", "submitted", "running", "succeeded", "cached", "failed", "aborted")
# (key of WorkflowMetrics, name, unit) for `runs view --metrics`.
METRICS = (
    ("cpu", "CPU (%)", "percent"),
    ("cpuUsage", "CPU (% of requested)", "percent"),
    ("mem", "Memory (peak RSS)", "bytes"),
    ("memUsage", "Memory (% of requested)", "percent"),
    ("time", "Duration", "ms"),
    ("timeUsage", "Duration (% of requested)", "percent"),
    ("reads", "Read", "bytes"),
    ("writes", "Written", "bytes"),
)


def _formatters() -> dict[str, Callable[[Any], str]]:
    from batchforge.web.render import format_duration, format_size

    def percent(value: Any) -> str:
        return "" if value is None else f"{float(value):.1f}%"

    def size(value: Any) -> str:
        return "" if value is None else format_size(int(value))

    def duration(value: Any) -> str:
        return "" if value is None else format_duration(float(value))

    return {"percent": percent, "bytes": size, "ms": duration}


def show_progress(st: State, client: BatchforgeClient, run_id: str) -> dict[str, Any]:
    """``--processes``: the run's task counts and one row per process."""
    progress = client.workflow_progress(run_id)
    if st.output == OutputFormat.json:
        return {"progress": progress}
    fmt = _formatters()
    overall = progress.get("workflowProgress") or {}
    counts = ", ".join(f"{k} {overall.get(k) or 0}" for k in PROCESS_COUNTS)
    load = (
        f"CPU load {overall.get('loadCpus') or 0}, memory load "
        f"{fmt['bytes'](overall.get('loadMemory') or 0)}"
    )
    rows = []
    for process in progress.get("processesProgress") or []:
        total = sum(int(process.get(k) or 0) for k in PROCESS_COUNTS)
        done = int(process.get("succeeded") or 0) + int(process.get("cached") or 0)
        rows.append(
            (
                process.get("process"),
                *(process.get(k) or 0 for k in PROCESS_COUNTS),
                f"{done}/{total}",
            )
        )
    title = f"Processes of run {run_id} (tasks: {counts}; {load})"
    emit_table(title, ["Process", *(k.capitalize() for k in PROCESS_COUNTS), "Done"], rows)
    return {}


def show_tasks(
    st: State, client: BatchforgeClient, run_id: str, filters: dict[str, Any]
) -> dict[str, Any]:
    """``--tasks``: one page of the task table."""
    page = client.list_workflow_tasks(run_id, **filters)
    if st.output == OutputFormat.json:
        return page
    fmt = _formatters()
    rows = []
    for item in page.get("tasks") or []:
        task = item.get("task") or {}
        exit_code = task.get("exit")
        rows.append(
            (
                task.get("taskId"),
                task.get("process"),
                task.get("tag") or "",
                task.get("status"),
                "" if exit_code in (None, 2147483647) else exit_code,
                fmt["ms"](task.get("duration")),
                fmt["ms"](task.get("realtime")),
                fmt["percent"](task.get("pcpu")),
                fmt["bytes"](task.get("peakRss")),
                task.get("nativeId") or "",
            )
        )
    shown = len(rows)
    offset = int(filters.get("offset") or 0)
    total = int(page.get("total") or 0)
    span = f"{offset + 1}-{offset + shown} of {total}" if shown else f"none of {total}"
    columns = ["ID", "Process", "Tag", "Status", "Exit", "Duration", "Realtime", "CPU"]
    emit_table(f"Tasks of run {run_id} ({span})", [*columns, "Peak RSS", "Batch job"], rows)
    return {}


def show_metrics(st: State, client: BatchforgeClient, run_id: str) -> dict[str, Any]:
    """``--metrics``: the five numbers and the mean of each metric, per process."""
    metrics = client.workflow_metrics(run_id)
    if st.output == OutputFormat.json:
        return {"metrics": metrics}
    fmt = _formatters()
    rows = []
    for entry in metrics:
        for key, name, unit in METRICS:
            data = entry.get(key)
            if not isinstance(data, dict):
                continue
            write = fmt[unit]
            rows.append(
                (
                    entry.get("process"),
                    name,
                    *(write(data.get(k)) for k in ("min", "q1", "q2", "q3", "max", "mean")),
                )
            )
    if not rows:
        typer.echo(f"No metrics for run {run_id} yet: Nextflow sends them when the run completes.")
        return {}
    columns = ["Process", "Metric", "Min", "Q1", "Median", "Q3", "Max", "Mean"]
    emit_table(f"Metrics of run {run_id}", columns, rows)
    return {}


# --- runs task -------------------------------------------------------------------------------

GENERAL = (
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
EXECUTION_TIME = (
    ("submit", "Submitted", None),
    ("start", "Started", None),
    ("complete", "Completed", None),
    ("duration", "Duration", "ms"),
    ("realtime", "Realtime", "ms"),
)
RESOURCES_REQUESTED = (
    ("cpus", "CPUs", None),
    ("memory", "Memory", "bytes"),
    ("disk", "Disk", "bytes"),
    ("time", "Time limit", "ms"),
    ("machineType", "Machine type", None),
    ("cloudZone", "Zone", None),
    ("priceModel", "Price model", None),
    ("cost", "Cost (USD)", None),
)
RESOURCES_USAGE = (
    ("pcpu", "CPU", "percent"),
    ("pmem", "Memory (% of host)", "pmem"),
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


def task_rows(task: dict[str, Any], fields: Sequence[tuple[str, str, str | None]]) -> list[Any]:
    """(name, value) rows of ``task`` for ``fields``, values in human units."""
    fmt = _formatters()
    fmt["pmem"] = fmt["percent"]
    fmt["exit"] = lambda v: "" if v in (None, 2147483647) else str(v)
    rows = []
    for key, name, unit in fields:
        value = task.get(key)
        rows.append((name, fmt[unit](value) if unit and value is not None else value))
    return rows


def task(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Workflow (run) id.")],
    task_id: Annotated[int, typer.Argument(help="Task id (as in `runs view RUN --tasks`).")],
    execution_time: Annotated[
        bool, typer.Option("--execution-time", help="Also the task's times.")
    ] = False,
    resources_requested: Annotated[
        bool, typer.Option("--resources-requested", help="Also what the task asked for.")
    ] = False,
    resources_usage: Annotated[
        bool, typer.Option("--resources-usage", help="Also what the task used.")
    ] = False,
    script: Annotated[bool, typer.Option("--script", help="Also the task's script.")] = False,
) -> None:
    """One task of a run (as ``tw runs view -i RUN task -t TASK_ID``)."""
    st = state(ctx)
    with st.client() as client:
        found = client.describe_workflow_task(run_id, task_id)
    if st.output == OutputFormat.json:
        emit_json({"task": found})
        return
    sections = [("General", GENERAL, True)]
    sections += [
        ("Execution time", EXECUTION_TIME, execution_time),
        ("Resources requested", RESOURCES_REQUESTED, resources_requested),
        ("Resources usage", RESOURCES_USAGE, resources_usage),
    ]
    for title, fields, wanted in sections:
        if wanted:
            emit_table(
                f"Task {task_id} of run {run_id}: {title}",
                ["Field", "Value"],
                task_rows(found, fields),
            )
    if script:
        typer.echo(found.get("script") or "(no script recorded)")


def print_log(fetch: Callable[[str | None], LogPage], follow: bool, interval: float) -> None:
    """Print a log page after page (``fetch(token)``); with ``follow``, keep polling every
    ``interval`` seconds while the server says more may come (``pending``)."""
    token = None
    while True:
        page = fetch(token)
        for line in page.entries:
            typer.echo(line)
        if not page.entries and page.message:
            typer.echo(f"({page.message})", err=True)
        if page.entries and page.forwardToken != token:
            token = page.forwardToken
            continue
        token = page.forwardToken or token
        if not follow or not page.pending:
            return
        time.sleep(interval)


def download_task_file(
    st: State, run_id: str, task_id: int, file_name: str, output: Path | None
) -> None:
    """``runs download RUN --task ID --file NAME``: to standard output, or into ``output``."""
    with st.client() as client:
        if output is None:
            sys.stdout.flush()
            client.download_workflow_task_file(run_id, task_id, file_name, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return
        with output.open("wb") as sink:
            size = client.download_workflow_task_file(run_id, task_id, file_name, sink)
    typer.echo(f"Saved {file_name} of task {task_id} of run {run_id} to {output} ({size:,} bytes).")
