"""``batchforge runs``: list, view, cancel, relaunch, logs, download and delete runs (after
``tw runs``)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated

import typer

from batchforge.cli import run_tasks
from batchforge.cli.common import emit_json, emit_table, fail, say, state
from batchforge.schemas.workflows import BROKEN_RUN_NAME

app = typer.Typer(
    help="Runs (workflows): list, view, cancel, relaunch, logs, download, delete.",
    no_args_is_help=True,
)
RunId = Annotated[str, typer.Argument(help="Workflow (run) id.")]


@app.command("list")
def list_runs(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only runs in this status.")] = None,
    search: Annotated[str | None, typer.Option(help="Text in the run name or pipeline.")] = None,
    max_results: Annotated[int, typer.Option("--max", help="At most this many.")] = 50,
) -> None:
    st = state(ctx)
    with st.client() as client:
        page = client.list_workflows(status=status, search=search, max_results=max_results)
    if st.structured:
        emit_json(page.model_dump(mode="json"))
        return
    rows = [
        (
            w.workflow.id,
            w.workflow.runName,
            w.workflow.projectName,
            w.workflow.status,
            w.workflow.submit.isoformat(timespec="seconds"),
        )
        for w in page.workflows
    ]
    emit_table("Runs", ["ID", "Name", "Pipeline", "Status", "Submitted"], rows)
    for item in page.workflows:  # rows the server could not read: say why and what to do
        if item.workflow.runName == BROKEN_RUN_NAME and item.workflow.errorMessage:
            typer.echo(f"Run {item.workflow.id} could not be read: {item.workflow.errorMessage}")


@app.command("view")
def view(
    ctx: typer.Context,
    run_id: RunId,
    processes: Annotated[
        bool, typer.Option("--processes", help="The progress of each process.")
    ] = False,
    tasks: Annotated[bool, typer.Option("--tasks", help="The run's tasks (a page).")] = False,
    metrics: Annotated[
        bool, typer.Option("--metrics", help="CPU, memory, time and I/O per process.")
    ] = False,
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
    """A run (as ``tw runs view -i RUN``); with --processes, --tasks or --metrics, what its
    Nextflow trace tells instead."""
    st = state(ctx)
    if processes or tasks or metrics:
        filters = {
            "search": search,
            "sort_by": sort_by,
            "sort_dir": sort_dir,
            "max_results": max_results,
            "offset": offset,
        }
        with st.client() as client:
            data = run_tasks.show_progress(st, client, run_id) if processes else {}
            if tasks:
                data |= run_tasks.show_tasks(st, client, run_id, filters)
            if metrics:
                data |= run_tasks.show_metrics(st, client, run_id)
        if st.structured:
            emit_json(data)
        return
    with st.client() as client:
        described = client.describe_workflow(run_id)
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


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    run_id: RunId,
    force: Annotated[bool, typer.Option(help="Cancel even if AWS refuses.")] = False,
) -> None:
    with state(ctx).client() as client:
        client.cancel_workflow(run_id, force)
        described = client.describe_workflow(run_id)
        say(f"Workflow {run_id}: {described.workflow.status}")
        for message in described.messages:  # e.g. how many task jobs were terminated
            say(message)


@app.command("relaunch")
def relaunch(
    ctx: typer.Context,
    run_id: RunId,
    no_resume: Annotated[
        bool,
        typer.Option(
            "--no-resume",
            help="Start from scratch in a new session instead of resuming (reusing the "
            "cached tasks of the run's session).",
        ),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Run name (default: a new one).")
    ] = None,
    work_dir: Annotated[
        str | None,
        typer.Option("--work-dir", help="Work directory (only with --no-resume)."),
    ] = None,
    launch_container: Annotated[
        str | None, typer.Option("--launch-container", help="Head job container image.")
    ] = None,
) -> None:
    """Launch a run again with its launch, as ``tw runs relaunch``: resumed by default (same
    session and work directory), or from scratch with --no-resume."""
    if work_dir and not no_resume:
        raise fail(
            "The work directory cannot change when resuming: use --no-resume to relaunch "
            "into a different work directory without resuming."
        )
    overrides = {"workDir": work_dir, "launchContainer": launch_container}
    st = state(ctx)
    with st.client() as client:
        new_id = client.relaunch_workflow(
            run_id,
            resume=not no_resume,
            run_name=name,
            **{k: v for k, v in overrides.items() if v is not None},
        )
    if st.structured:
        emit_json({"workflowId": new_id})
        return
    how = "from scratch" if no_resume else "resuming"
    say(f"Workflow {new_id} submitted ({how} {run_id}).")


@app.command("delete")
def delete(
    ctx: typer.Context,
    run_id: RunId,
    force: Annotated[bool, typer.Option(help="Cancel an active run first.")] = False,
) -> None:
    with state(ctx).client() as client:
        client.delete_workflow(run_id, force)
    say(f"Workflow {run_id} deleted.")


@app.command("logs")
def logs(
    ctx: typer.Context,
    run_id: RunId,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls with --follow.")] = 3.0,
    task_id: Annotated[
        int | None, typer.Option("--task", help="A task's log instead of the head job's.")
    ] = None,
) -> None:
    """The head job's log (Nextflow's output) from CloudWatch, or a task's with --task."""
    with state(ctx).client() as client:
        if task_id is not None:
            fetch = functools.partial(client.workflow_task_log, run_id, task_id)
        else:
            fetch = functools.partial(client.workflow_log, run_id)
        run_tasks.print_log(fetch, follow, interval)


app.command("task")(run_tasks.task)


@app.command("download")
def download(
    ctx: typer.Context,
    run_id: RunId,
    file_name: Annotated[
        str | None,
        typer.Option("--file", help="File of the run's folder (default: the Nextflow log)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (default: standard output)."),
    ] = None,
    list_files: Annotated[
        bool, typer.Option("--list", help="List the run's files instead of downloading.")
    ] = False,
    task_id: Annotated[
        int | None,
        typer.Option(
            "--task", help="A task's file (--file .command.out, .command.err or .command.log)."
        ),
    ] = None,
) -> None:
    """A run file from its work directory: the Nextflow log by default (the head job copies
    it there when Nextflow exits); with --task, a file of that task's work directory."""
    st = state(ctx)
    if task_id is not None:
        run_tasks.download_task_file(st, run_id, task_id, file_name or ".command.out", output)
        return
    with st.client() as client:
        if list_files:
            listed = client.list_workflow_files(run_id)
            if st.structured:
                emit_json(listed.model_dump(mode="json"))
                return
            rows = [(f.fileName, f.size, f.lastModified) for f in listed.files]
            emit_table(
                f"Files of run {run_id} ({listed.folder})", ["Name", "Bytes", "Modified"], rows
            )
            return
        if output is None:
            sys.stdout.flush()
            client.download_workflow_file(run_id, sys.stdout.buffer, file_name)
            sys.stdout.buffer.flush()
            return
        size = client.save_workflow_file(run_id, output, file_name)
    say(f"Saved {file_name or 'the Nextflow log'} of run {run_id} to {output} ({size:,} bytes).")
