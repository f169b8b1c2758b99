"""``runs view``: a run, as ``tw runs view -i RUN`` shows it, with ``tw``'s section flags
(``--config``, ``--params``, ``--command``, ``--status``, ``--processes``, ``--stats``,
``--load``, ``--utilization``, ``--metrics-*``) and sub-views (``tasks``, ``task -t ID``,
``download [--type] [-t ID]``, ``metrics``); batchforge's ``--tasks``/``--metrics`` and its
positional ``runs view RUN`` keep working."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from batchforge.cli import launch_opts as lo
from batchforge.cli import run_tasks
from batchforge.cli.common import State, emit_json, emit_table, fail, say, state
from batchforge.client.task_fields import COUNTS


class _ViewGroup(TyperGroup):
    """``runs view RUN ...`` (batchforge's positional) is ``runs view -i RUN ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["-i", *args]
        return super().parse_args(ctx, args)


view_app = typer.Typer(
    cls=_ViewGroup,
    invoke_without_command=True,
    no_args_is_help=False,
    help="A run, its sections and sub-views (tasks, task, download, metrics).",
)

_SECTIONS = ("config", "params", "command", "status", "stats", "load", "utilization")


def _flag(name: str, text: str) -> Any:
    return Annotated[bool, typer.Option(f"--{name}", help=text)]


@view_app.callback()
def view(
    ctx: typer.Context,
    id_: Annotated[str | None, typer.Option("--id", "-i", help="Workflow (run) id.")] = None,
    workspace: lo.WorkspaceOpt = None,
    config: _flag("config", "The Nextflow config of the run.") = False,
    params: _flag("params", "The run's parameters.") = False,
    command: _flag("command", "The Nextflow command line.") = False,
    status: _flag("status", "Task counts by status.") = False,
    processes: _flag("processes", "The progress of each process.") = False,
    stats: _flag("stats", "Wall time, CPU time, memory, I/O and cost.") = False,
    load: _flag("load", "CPU and task load (current and peak).") = False,
    utilization: _flag("utilization", "CPU and memory efficiency.") = False,
    metrics_memory: _flag("metrics-memory", "Memory metrics per process.") = False,
    metrics_cpu: _flag("metrics-cpu", "CPU metrics per process.") = False,
    metrics_time: _flag("metrics-time", "Time metrics per process.") = False,
    metrics_io: _flag("metrics-io", "I/O metrics per process.") = False,
    tasks: _flag("tasks", "The run's tasks (a page).") = False,
    metrics: _flag("metrics", "CPU, memory, time and I/O per process.") = False,
    search: Annotated[
        str | None, typer.Option(help="With --tasks: tasks whose name or process has this.")
    ] = None,
    sort_by: Annotated[
        str | None, typer.Option("--sort-by", help="With --tasks: a Task field, e.g. taskId.")
    ] = None,
    sort_dir: Annotated[
        str | None, typer.Option("--sort-dir", help="With --tasks: asc or desc.")
    ] = None,
    max_results: Annotated[
        int, typer.Option("--max", help="With --tasks: at most this many.")
    ] = 100,
    offset: Annotated[int, typer.Option(help="With --tasks: skip this many.")] = 0,
) -> None:
    """A run (as ``tw runs view -i RUN``); section flags add what its trace tells."""
    if not id_:
        raise fail("Name the run: runs view -i RUN_ID (or runs view RUN_ID).", code=2)
    st = lo.scoped(ctx, workspace)
    if ctx.invoked_subcommand is not None:
        return
    wanted = {
        "config": config,
        "params": params,
        "command": command,
        "status": status,
        "stats": stats,
        "load": load,
        "utilization": utilization,
    }
    any_metrics = metrics or metrics_memory or metrics_cpu or metrics_time or metrics_io
    if processes or tasks or any_metrics or any(wanted.values()):
        filters = {
            "search": search,
            "sort_by": sort_by,
            "sort_dir": sort_dir,
            "max_results": max_results,
            "offset": offset,
        }
        with st.client() as client:
            data = _sections(st, client, id_, [k for k, v in wanted.items() if v])
            if processes:
                data |= run_tasks.show_progress(st, client, id_)
            if tasks:
                data |= run_tasks.show_tasks(st, client, id_, filters)
            if any_metrics:
                data |= run_tasks.show_metrics(st, client, id_)
        if st.structured:
            emit_json(data)
        return
    with st.client() as client:
        described = client.describe_workflow(id_)
    if st.structured:
        emit_json(described.model_dump(mode="json"))
        return
    w = described.workflow
    job = described.jobInfo
    rows = [
        ("ID", w.id),
        ("Name", w.runName),
        ("Pipeline", w.repository),
        ("Revision", w.revision),
        ("Status", w.status),
        ("Session", f"{w.sessionId} (resumed)" if w.resume else w.sessionId),
        ("Work dir", w.workDir),
        ("Command", w.commandLine),
        ("Submitted", w.submit),
        ("Started", w.start),
        ("Completed", w.complete),
        ("Duration (ms)", w.duration),
        ("Exit status", w.exitStatus),
        ("Head job", job.operationId if job else None),
        ("Error", w.errorMessage),
        *run_tasks.trace_rows(described),
    ]
    emit_table(f"Run {w.id}", ["Field", "Value"], rows)


def _sections(st: State, client: Any, run_id: str, names: list[str]) -> dict[str, Any]:
    """tw's sections of ``runs view``: printed, or returned as data for ``-o json``."""
    if not names:
        return {}
    w = client.describe_workflow(run_id).workflow
    overall: dict[str, Any] = {}
    if {"status", "stats", "load", "utilization"} & set(names):
        overall = client.workflow_progress(run_id).get("workflowProgress") or {}
    data: dict[str, Any] = {}
    if "config" in names:
        files = getattr(w, "configFiles", None)
        data["config"] = {"configFiles": files, "configText": w.configText}
    if "params" in names:
        data["params"] = w.params or {}
    if "command" in names:
        data["command"] = w.commandLine
    if "status" in names:
        data["status"] = {k: overall.get(k) or 0 for k in COUNTS}
    if "stats" in names:
        data["stats"] = {
            "wallTimeMs": w.duration,
            "cpuTimeMs": overall.get("cpuTime"),
            "memoryRss": overall.get("memoryRss"),
            "readBytes": overall.get("readBytes"),
            "writeBytes": overall.get("writeBytes"),
            "cost": overall.get("cost"),
        }
    if "load" in names:
        keys = ("peakCpus", "loadCpus", "peakTasks", "loadTasks")
        data["load"] = {k: overall.get(k) for k in keys}
    if "utilization" in names:
        keys = ("memoryEfficiency", "cpuEfficiency")
        data["utilization"] = {k: overall.get(k) for k in keys}
    if st.structured:
        return data
    for name, value in data.items():
        if name == "command":
            say(f"Command:\n{value}")
        elif name == "params":
            say("Parameters:\n" + json.dumps(value, indent=2))
        elif name == "config":
            say("Configuration:\n" + (value.get("configText") or "(none recorded)"))
        else:
            emit_table(name.capitalize(), ["Field", "Value"], list(value.items()))
    return {}


def _run_id(ctx: typer.Context) -> str:
    parent = ctx.parent
    assert parent is not None
    return str(parent.params["id_"])


@view_app.command("tasks")
def tasks_view(
    ctx: typer.Context,
    columns: Annotated[
        list[str] | None, typer.Option("--columns", "-c", help="Accepted as tw.")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--filter", "-f", help="Tasks whose name starts so.")
    ] = None,
    max_results: lo.Max = None,
    offset: lo.Offset = None,
    page: lo.Page = None,
) -> None:
    """The run's tasks (as ``tw runs view -i RUN tasks``)."""
    st = state(ctx)
    size, skip = lo.paging(max_results, offset, page)
    filters = {"search": search, "max_results": size, "offset": skip}
    with st.client() as client:
        data = run_tasks.show_tasks(st, client, _run_id(ctx), filters)
    if st.structured:
        emit_json(data)


@view_app.command("task")
def task_view(
    ctx: typer.Context,
    task_id: Annotated[int, typer.Option("-t", help="Task id.")],
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
    """One task (as ``tw runs view -i RUN task -t ID``)."""
    run_tasks.task(
        ctx, _run_id(ctx), task_id, execution_time, resources_requested, resources_usage, script
    )


@view_app.command("metrics")
def metrics_view(
    ctx: typer.Context,
    process: Annotated[
        str | None, typer.Option("--filter", "-f", help="Processes with this in the name.")
    ] = None,
    types: Annotated[list[str] | None, typer.Option("--type", "-t", help="Accepted as tw.")] = None,
    columns: Annotated[
        list[str] | None, typer.Option("--columns", "-c", help="Accepted as tw.")
    ] = None,
    view: Annotated[
        str, typer.Option("--view", "-v", help="condensed or expanded (accepted as tw).")
    ] = "condensed",
) -> None:
    """Metrics per process (as ``tw runs view -i RUN metrics``)."""
    st = state(ctx)
    run_id = _run_id(ctx)
    with st.client() as client:
        if process:
            found = [m for m in client.workflow_metrics(run_id) if process in m.get("process", "")]
            if st.structured:
                emit_json({"metrics": found})
                return
        data = run_tasks.show_metrics(st, client, run_id)
    if st.structured:
        emit_json(data)


@view_app.command("download")
def download_view(
    ctx: typer.Context,
    file_type: Annotated[
        str, typer.Option("--type", help="stdout, log, stderr (tasks) or timeline (runs).")
    ] = "stdout",
    task_id: Annotated[int | None, typer.Option("-t", help="A task's file.")] = None,
) -> None:
    """A run's or a task's output, printed (as ``tw runs view -i RUN download``): for the run,
    ``stdout`` is the head job's log and ``log`` the Nextflow log."""
    st = state(ctx)
    run_id = _run_id(ctx)
    if file_type not in ("stdout", "log", "stderr", "timeline"):
        raise fail("--type takes stdout, log, stderr or timeline.", code=2)
    with st.client() as client:
        if task_id is not None:
            if file_type == "timeline":
                raise fail("Timeline file is not available for tasks.")
            name = {"stdout": ".command.out", "log": ".command.log", "stderr": ".command.err"}
            sys.stdout.flush()
            client.download_workflow_task_file(run_id, task_id, name[file_type], sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return
        if file_type == "stderr":
            raise fail("Error file is not available for pipeline's runs.")
        if file_type == "stdout":
            for page in client.iter_workflow_log(run_id):
                for line in page.entries:
                    typer.echo(line)
            return
        file_name = f"nf-{run_id}.log" if file_type == "log" else f"timeline-{run_id}.html"
        sys.stdout.flush()
        client.download_workflow_file(run_id, sys.stdout.buffer, file_name)
        sys.stdout.buffer.flush()
