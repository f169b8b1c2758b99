"""What a run's trace shows in the CLI, after ``tw runs view``: the processes' progress, the
task table, the metrics per process (``runs view RUN --processes --tasks --metrics``), one
task (``runs task RUN TASK_ID``) and a task's log (``runs logs RUN --task TASK_ID``).

With ``-o json`` each prints the API's JSON (Seqera's shapes) unchanged.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli.common import State, emit_json, emit_table, state
from batchforge.client.task_fields import COUNTS, METRICS, SECTIONS, rows, show

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient
    from batchforge.schemas.workflows import DescribeWorkflowResponse, LogPage


def trace_rows(described: DescribeWorkflowResponse) -> list[tuple[str, str]]:
    """``runs view``'s rows from the trace: task counts, cost estimate, messages."""
    found: list[tuple[str, str]] = []
    progress = described.progress
    if progress is not None and progress.workflowProgress is not None:
        overall = progress.workflowProgress.model_dump()
        counts = [f"{k} {overall.get(k)}" for k in COUNTS if overall.get(k)]
        found.append(("Tasks", ", ".join(counts) or "none reported"))
    cost, note = getattr(described, "cost", None), getattr(described, "costNote", None)
    if cost is not None or note:
        found.append(("Cost (estimate)", " ".join(x for x in (show(cost, "usd"), note) if x)))
    found += [("Message", message) for message in described.messages]
    return found


def show_progress(st: State, client: BatchforgeClient, run_id: str) -> dict[str, Any]:
    """``--processes``: the run's task counts and one row per process."""
    progress = client.workflow_progress(run_id)
    if st.structured:
        return {"progress": progress}
    overall = progress.get("workflowProgress") or {}
    counts = ", ".join(f"{k} {overall.get(k) or 0}" for k in COUNTS)
    load = (
        f"CPU load {overall.get('loadCpus') or 0}, "
        f"memory load {show(overall.get('loadMemory') or 0, 'bytes')}"
    )
    table = []
    for process in progress.get("processesProgress") or []:
        total = sum(int(process.get(k) or 0) for k in COUNTS)
        done = int(process.get("succeeded") or 0) + int(process.get("cached") or 0)
        table.append(
            (process.get("process"), *(process.get(k) or 0 for k in COUNTS), f"{done}/{total}")
        )
    title = f"Processes of run {run_id} (tasks: {counts}; {load})"
    emit_table(title, ["Process", *(k.capitalize() for k in COUNTS), "Done"], table)
    return {}


def show_tasks(
    st: State, client: BatchforgeClient, run_id: str, filters: dict[str, Any]
) -> dict[str, Any]:
    """``--tasks``: one page of the task table."""
    page = client.list_workflow_tasks(run_id, **filters)
    if st.structured:
        return page
    columns = (
        ("taskId", "ID", None),
        ("process", "Process", None),
        ("tag", "Tag", None),
        ("status", "Status", None),
        ("exit", "Exit", "exit"),
        ("duration", "Duration", "ms"),
        ("realtime", "Realtime", "ms"),
        ("pcpu", "CPU", "percent"),
        ("peakRss", "Peak RSS", "bytes"),
        ("nativeId", "Batch job", None),
    )
    table = []
    for item in page.get("tasks") or []:
        task = item.get("task") or {}
        table.append([show(task.get(key), unit) for key, _, unit in columns])
    offset = int(filters.get("offset") or 0)
    total = int(page.get("total") or 0)
    span = f"{offset + 1}-{offset + len(table)} of {total}" if table else f"none of {total}"
    emit_table(f"Tasks of run {run_id} ({span})", [c[1] for c in columns], table)
    return {}


def show_metrics(st: State, client: BatchforgeClient, run_id: str) -> dict[str, Any]:
    """``--metrics``: the five numbers and the mean of each metric, per process."""
    metrics = client.workflow_metrics(run_id)
    if st.structured:
        return {"metrics": metrics}
    table = []
    for entry in metrics:
        for key, name, unit in METRICS:
            data = entry.get(key)
            if isinstance(data, dict):
                numbers = (
                    show(data.get(k), unit) for k in ("min", "q1", "q2", "q3", "max", "mean")
                )
                table.append((entry.get("process"), name, *numbers))
    if not table:
        typer.echo(f"No metrics for run {run_id} yet: Nextflow sends them when the run completes.")
        return {}
    columns = ["Process", "Metric", "Min", "Q1", "Median", "Q3", "Max", "Mean"]
    emit_table(f"Metrics of run {run_id}", columns, table)
    return {}


# --- runs task -------------------------------------------------------------------------------


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
    if st.structured:
        emit_json({"task": found})
        return
    typer.echo(f"Task {task_id} of run {run_id}")
    wanted = (True, execution_time, resources_requested, resources_usage)
    for (title, fields), chosen in zip(SECTIONS, wanted, strict=True):
        if chosen:
            emit_table(title, ["Field", "Value"], rows(found, fields))
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
