"""What the run page shows of a run's Nextflow trace, shaped for the templates: status cards,
the processes' progress, a page of the task table (search, sort, pages: all server-side, so
the page works without its script), a task's detail, and the metrics as box plots.

Reads go through the services that serve the REST API's ``/workflow/{id}/progress|tasks|
task|metrics|log`` (same JSON, Seqera's shapes); this module only arranges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends

from batchforge.client.task_fields import COUNTS, SECTIONS, TASK_DONE, rows, show
from batchforge.errors import BatchforgeError
from batchforge.schemas.workflows import DescribeWorkflowResponse
from batchforge.services import trace_read
from batchforge.services.context import AppContext
from batchforge.web import plots


def _json(model: Any) -> Any:
    """An API model as the REST API would answer it (the templates read Seqera's keys)."""
    if isinstance(model, list):
        return [_json(item) for item in model]
    return model.model_dump(mode="json", exclude_none=True)


PAGE_SIZE = 25
# Columns of the task table: (Task key, heading, unit, sortable).
TASK_COLUMNS: tuple[tuple[str, str, str | None, bool], ...] = (
    ("taskId", "ID", None, True),
    ("process", "Process", None, True),
    ("tag", "Tag", None, True),
    ("status", "Status", None, True),
    ("exit", "Exit", "exit", False),
    ("submit", "Submitted", "when", True),
    ("duration", "Duration", "ms", True),
    ("pcpu", "CPU", "percent", False),
    ("peakRss", "Peak RSS", "bytes", False),
)
SORTABLE = tuple(key for key, _, _, sortable in TASK_COLUMNS if sortable)
CARD_TONES = {"running": "busy", "submitted": "busy", "succeeded": "ok", "failed": "bad"}
# The box plots of the metrics section: (id, title, series, unit).
PLOTS: tuple[tuple[str, str, tuple[plots.Series, ...], str], ...] = (
    ("plot-cpu", "CPU usage (% of a core)", (plots.Series("cpu", "CPU"),), "percent"),
    ("plot-mem", "Memory (peak RSS)", (plots.Series("mem", "memory"),), "bytes"),
    ("plot-time", "Task duration (realtime)", (plots.Series("time", "duration"),), "ms"),
    (
        "plot-io",
        "I/O: bytes read and written",
        (plots.Series("reads", "read", "box-a"), plots.Series("writes", "written", "box-b")),
        "bytes",
    ),
    (
        "plot-cpu-usage",
        "CPU used, % of requested",
        (plots.Series("cpuUsage", "CPU"),),
        "percent",
    ),
    (
        "plot-mem-usage",
        "Memory used, % of requested",
        (plots.Series("memUsage", "memory"),),
        "percent",
    ),
)


@dataclass(frozen=True)
class TaskQuery:
    """The task table's search, sort and page, as the page's query string carries them."""

    search: str = ""
    sort: str = "taskId"
    direction: str = "asc"
    offset: int = 0

    @classmethod
    def read(
        cls, search: str | None, sort: str | None, direction: str | None, offset: int | None
    ) -> TaskQuery:
        """From the query string; what is not understood falls back to the default."""
        return cls(
            search=(search or "").strip()[:200],
            sort=sort if sort in SORTABLE else "taskId",
            direction="desc" if direction == "desc" else "asc",
            offset=max(0, min(offset or 0, 10_000_000)),
        )

    @classmethod
    def from_request(
        cls,
        search: str | None = None,
        sort: str | None = None,
        dir: str | None = None,
        offset: int | None = None,
    ) -> TaskQuery:
        """A FastAPI dependency: the task table's state from the page's query string."""
        return cls.read(search, sort, dir, offset)

    def query(self, **changes: Any) -> str:
        """The query string of this table state with ``changes`` (defaults left out)."""
        state = replace(self, **changes)
        pairs = {
            "search": state.search,
            "sort": state.sort if state.sort != "taskId" else "",
            "dir": state.direction if state.direction != "asc" else "",
            "offset": state.offset or "",
        }
        return urlencode({k: v for k, v in pairs.items() if v != ""})

    def sort_link(self, key: str) -> str:
        """Sorting by ``key``: ascending first, the other way when it is the current sort."""
        flip = "desc" if self.sort == key and self.direction == "asc" else "asc"
        return self.query(sort=key, direction=flip, offset=0)

    def aria_sort(self, key: str) -> str | None:
        if key != self.sort:
            return None
        return "ascending" if self.direction == "asc" else "descending"


Tasks = Annotated[TaskQuery, Depends(TaskQuery.from_request)]


def progress_data(found: Any, cost_note: str | None = None) -> dict[str, Any]:
    """Status cards and the processes' progress, from ``ProgressData`` (as ``GET
    /workflow/{id}`` embeds it; None before anything was reported); ``cost_note`` says what
    the cost estimate leaves out (``DescribeWorkflowResponse.costNote``)."""
    progress = _json(found) if found is not None else {}
    overall: Mapping[str, Any] = progress.get("workflowProgress") or {}
    cards = [
        {
            "label": key.capitalize(),
            "value": int(overall.get(key) or 0),
            "tone": CARD_TONES.get(key, "muted"),
            "note": "",
        }
        for key in COUNTS
        if key != "aborted" or overall.get(key)
    ]
    load = [
        {
            "label": "CPU load",
            "value": int(overall.get("loadCpus") or 0),
            "tone": "muted",
            "note": f"CPUs of running tasks; peak {int(overall.get('peakCpus') or 0)}",
        },
        {
            "label": "Memory load",
            "value": show(overall.get("loadMemory") or 0, "bytes"),
            "tone": "muted",
            "note": f"of running tasks; peak {show(overall.get('peakMemory') or 0, 'bytes')}",
        },
    ]
    cost = overall.get("cost")
    if isinstance(cost, int | float) or cost_note:
        load.append(
            {
                "label": "Cost",
                "value": show(cost, "usd") if isinstance(cost, int | float) else "—",
                "tone": "muted",
                "note": f"estimate; {cost_note}" if cost_note else "estimate (AWS prices)",
            }
        )
    processes = [_process(p) for p in progress.get("processesProgress") or []]
    total = sum(p["total"] for p in processes)
    done = sum(p["done"] for p in processes)
    failed = int(overall.get("failed") or 0)
    announce = f"Tasks: {done} of {total} done" + (f", {failed} failed" if failed else "")
    return {
        "cards": cards,
        "load": load,
        "processes": processes,
        "reported": bool(processes) or any(overall.get(k) for k in COUNTS),
        "announce": announce,
    }


def _process(process: Mapping[str, Any]) -> dict[str, Any]:
    parts = plots.progress_parts(process)
    total = sum(n for _, n in parts)
    done = int(process.get("succeeded") or 0) + int(process.get("cached") or 0)
    words = ", ".join(f"{n} {key}" for key, n in parts) or "no tasks yet"
    return {
        "name": str(process.get("process") or "?"),
        "total": total,
        "done": done,
        "words": words,
        "bar": plots.progress_bar(process),
    }


def tasks_data(ctx: AppContext, workspace_id: int, run_id: str, query: TaskQuery) -> dict[str, Any]:
    """A page of the task table, in human units."""
    page = trace_read.list_tasks(
        ctx,
        workspace_id,
        run_id,
        max_results=PAGE_SIZE,
        offset=query.offset,
        sort_by=query.sort,
        sort_dir=query.direction,
        search=query.search or None,
    )
    found = [_json(item.task) for item in page.tasks]
    total = page.total or 0
    table = [
        {
            "id": task.get("taskId"),
            "status": task.get("status") or "",
            "waiting": str(task.get("waitingReason") or ""),
            "cells": {key: show(task.get(key), unit) for key, _, unit, _ in TASK_COLUMNS},
            "cost": show(task.get("cost"), "usd"),
        }
        for task in found
    ]
    return {
        "tasks": table,
        "total": total,
        "first": query.offset + 1 if table else 0,
        "last": query.offset + len(table),
        "previous": query.query(offset=max(0, query.offset - PAGE_SIZE)) if query.offset else None,
        "next": query.query(offset=query.offset + PAGE_SIZE)
        if query.offset + len(table) < total
        else None,
        "columns": TASK_COLUMNS,
        "costs": any(row["cost"] for row in table),
        "tq": query,
        "busy": any(t.get("status") not in TASK_DONE for t in found),
    }


def metrics_data(ctx: AppContext, workspace_id: int, run_id: str) -> dict[str, Any]:
    """The box plots, each with its numbers as a table (the plot's text alternative)."""
    metrics = _json(trace_read.metrics(ctx, workspace_id, run_id))
    figures = []
    for plot_id, title, series, unit in PLOTS:

        def write(value: float, unit: str = unit) -> str:
            return show(value, unit)

        picture = plots.box_plot(plot_id, title, metrics, series, write, kind=unit)
        if not picture:
            continue
        table = [
            {
                "process": box.process,
                "series": box.series.name,
                "cells": [write(v) for v in (box.low, box.q1, box.median, box.q3, box.high)]
                + [write(box.mean) if box.mean is not None else ""],
            }
            for box in plots.boxes_of(metrics, series)
        ]
        figures.append(
            {
                "id": plot_id,
                "title": title,
                "svg": picture,
                "table": table,
                "grouped": len(series) > 1,
            }
        )
    return {"figures": figures, "has_metrics": bool(metrics)}


def task_detail(ctx: AppContext, workspace_id: int, run_id: str, task_id: int) -> dict[str, Any]:
    """One task: its sections of fields (label, value) and its script."""
    task = _json(trace_read.describe_task(ctx, workspace_id, run_id, task_id))
    sections = [
        {"title": title, "rows": [(k, v) for k, v in rows(task, fields) if v != ""]}
        for title, fields in SECTIONS
    ]
    return {
        "task": task,
        "waiting": str(task.get("waitingReason") or ""),
        "cost_note": str(task.get("costNote") or ""),
        "sections": [s for s in sections if s["rows"]],
        "script": task.get("script") or "",
    }


def attempt(read: Any, *args: Any) -> tuple[Any, str | None]:
    """``read(*args)`` and no error, or None and the error's message: an AWS or trace problem
    in one part must not take the whole run page down."""
    try:
        return read(*args), None
    except BatchforgeError as problem:
        return None, problem.message


def progress_of(ctx: AppContext, workspace_id: int, run: DescribeWorkflowResponse) -> Any:
    """The run's ProgressData: embedded in the description, else read."""
    if run.progress is not None:
        return run.progress
    return trace_read.progress(ctx, workspace_id, run.workflow.id)


def progress_for(ctx: AppContext, workspace_id: int, run: DescribeWorkflowResponse) -> Any:
    """The status cards and processes of ``run``, its cost note included."""
    return progress_data(progress_of(ctx, workspace_id, run), getattr(run, "costNote", None))


def page_data(
    ctx: AppContext, workspace_id: int, run: DescribeWorkflowResponse, query: TaskQuery
) -> dict[str, Any]:
    """What the run page adds for the trace (``_run_trace.html``): progress, a page of
    tasks, the metrics, and what could not be read."""
    run_id = run.workflow.id
    data: dict[str, Any] = {
        "tq": query,
        "progress": progress_for(ctx, workspace_id, run),
    }
    data["table"], data["tasks_error"] = attempt(tasks_data, ctx, workspace_id, run_id, query)
    data["metrics"], data["metrics_error"] = attempt(metrics_data, ctx, workspace_id, run_id)
    return data
