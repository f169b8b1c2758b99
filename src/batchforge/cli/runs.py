"""``batchforge runs``: list, view (and its ``tasks``, ``task``, ``download`` and ``metrics``
sub-views), cancel, relaunch, delete, dump and labels, with ``tw runs``' options; plus
batchforge's ``logs``, ``task`` and ``download``.

A run is named as ``tw`` names it (``-i ID``) or by batchforge's positional RUN_ID.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from batchforge.cli import launch_opts as lo
from batchforge.cli import run_tasks
from batchforge.cli.common import emit_json, emit_table, fail, pick, say, state
from batchforge.cli.run_views import view_app
from batchforge.schemas.workflows import BROKEN_RUN_NAME

app = typer.Typer(
    help="Runs (workflows): list, view, cancel, relaunch, delete, dump, labels, logs, download.",
    no_args_is_help=True,
)
app.add_typer(view_app, name="view")
RunId = Annotated[str, typer.Argument(help="Workflow (run) id.")]
RunArg = Annotated[str | None, typer.Argument(help="Workflow (run) id.", show_default=False)]
RunOpt = Annotated[str | None, typer.Option("--id", "-i", help="Workflow (run) id.")]


def run_ref(target: str | None, id_: str | None) -> str:
    """The run given as ``-i ID`` (tw) or positionally (batchforge)."""
    return pick(target, id_, None, "run")


@app.command("list")
def list_runs(
    ctx: typer.Context,
    workspace: lo.WorkspaceOpt = None,
    search: Annotated[
        str | None,
        typer.Option("--filter", "-f", "--search", help="Text in the run name or pipeline."),
    ] = None,
    status: Annotated[str | None, typer.Option(help="Only runs in this status.")] = None,
    show_labels: Annotated[bool, typer.Option("--labels", "-l", help="Show labels.")] = False,
    max_results: lo.Max = None,
    offset: lo.Offset = None,
    page: lo.Page = None,
) -> None:
    """List runs (as ``tw runs list``), newest first."""
    st = lo.scoped(ctx, workspace)
    size, skip = lo.paging(max_results, offset, page)
    with st.client() as client:
        params = {
            "status": status,
            "search": search,
            "max": size,
            "offset": skip,
            "attributes": "labels" if show_labels else None,
        }
        body = client.request("GET", "/workflow", params=params).json()
    from batchforge.schemas.workflows import ListWorkflowsResponse

    page_ = ListWorkflowsResponse.model_validate(body)
    if st.structured:
        emit_json(page_.model_dump(mode="json"))
        return
    rows = []
    for w in page_.workflows:
        row: list[Any] = [
            w.workflow.id,
            w.workflow.runName,
            w.workflow.projectName,
            w.workflow.status,
            w.workflow.submit.isoformat(timespec="seconds"),
        ]
        if show_labels:
            row.append(", ".join(_label(lb) for lb in getattr(w, "labels", None) or []))
        rows.append(row)
    columns = ["ID", "Name", "Pipeline", "Status", "Submitted"]
    emit_table("Runs", columns + (["Labels"] if show_labels else []), rows)
    for item in page_.workflows:  # rows the server could not read: say why and what to do
        if item.workflow.runName == BROKEN_RUN_NAME and item.workflow.errorMessage:
            typer.echo(f"Run {item.workflow.id} could not be read: {item.workflow.errorMessage}")


def _label(label: Any) -> str:
    data = label if isinstance(label, dict) else label.model_dump()
    value = data.get("value")
    return f"{data.get('name')}={value}" if data.get("resource") and value else str(data["name"])


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    target: RunArg = None,
    id_: RunOpt = None,
    workspace: lo.WorkspaceOpt = None,
    force: Annotated[bool, typer.Option(help="Cancel even if AWS refuses.")] = False,
) -> None:
    """Cancel a run (as ``tw runs cancel``)."""
    run_id = run_ref(target, id_)
    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        client.cancel_workflow(run_id, force)
        described = client.describe_workflow(run_id)
    if st.structured:
        emit_json({"workflowId": run_id, "status": described.workflow.status})
        return
    say(f"Workflow {run_id}: {described.workflow.status}")
    for message in described.messages:  # e.g. how many task jobs were terminated
        say(message)


@app.command("relaunch")
def relaunch(
    ctx: typer.Context,
    target: RunArg = None,
    id_: RunOpt = None,
    workspace: lo.WorkspaceOpt = None,
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
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", help="Another repository URL to launch.")
    ] = None,
    work_dir: Annotated[
        str | None,
        typer.Option("--work-dir", help="Work directory (only with --no-resume)."),
    ] = None,
    launch_container: Annotated[
        str | None, typer.Option("--launch-container", help="Head job container image.")
    ] = None,
    schema_name: lo.SchemaName = None,
) -> None:
    """Launch a run again with its launch, as ``tw runs relaunch``: resumed by default (same
    session and work directory), or from scratch with --no-resume."""
    run_id = run_ref(target, id_)
    if work_dir and not no_resume:
        raise fail(
            "The work directory cannot change when resuming: use --no-resume to relaunch "
            "into a different work directory without resuming."
        )
    overrides = {
        "workDir": work_dir,
        "launchContainer": launch_container,
        "pipeline": pipeline,
        "schemaName": schema_name,
    }
    st = lo.scoped(ctx, workspace)
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
    target: RunArg = None,
    id_: RunOpt = None,
    workspace: lo.WorkspaceOpt = None,
    force: Annotated[bool, typer.Option(help="Cancel an active run first.")] = False,
) -> None:
    """Delete a run (as ``tw runs delete``)."""
    run_id = run_ref(target, id_)
    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        client.delete_workflow(run_id, force)
    if st.structured:
        emit_json({"workflowId": run_id, "deleted": True})
        return
    say(f"Workflow {run_id} deleted.")


@app.command("dump")
def dump(
    ctx: typer.Context,
    id_: Annotated[str, typer.Option("--id", "-i", "-id", help="Workflow (run) id.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.tar.gz or FILE.tar.xz")],
    workspace: lo.WorkspaceOpt = None,
    add_task_logs: Annotated[
        bool, typer.Option("--add-task-logs", help="Also each task's .command.out/err/log.")
    ] = False,
    add_fusion_logs: Annotated[
        bool, typer.Option("--add-fusion-logs", help="Accepted as tw (no Fusion here).")
    ] = False,
    only_failed: Annotated[
        bool, typer.Option("--only-failed", help="Task logs of failed tasks only.")
    ] = False,
    silent: Annotated[bool, typer.Option("--silent", help="No progress lines.")] = False,
) -> None:
    """A run's details and logs in one archive (as ``tw runs dump``)."""
    from batchforge.cli import run_dump

    run_dump.mode_of(output)
    st = lo.scoped(ctx, workspace)

    def progress(line: str) -> None:
        if not silent and not st.structured:
            typer.echo(line, err=True)

    with st.client() as client:
        entries = run_dump.dump(client, id_, output, add_task_logs, only_failed, progress)
    if st.structured:
        emit_json({"workflowId": id_, "file": str(output), "entries": entries})
        return
    say(f"Run {id_} dumped to {output} ({entries} entries).")


@app.command("labels")
def labels_cmd(
    ctx: typer.Context,
    labels: Annotated[str, typer.Argument(help="Labels, comma-separated: NAME or NAME=VALUE.")],
    id_: Annotated[str, typer.Option("--id", "-i", "-id", help="Workflow (run) id.")],
    workspace: lo.WorkspaceOpt = None,
    operation: Annotated[
        str, typer.Option("--operations", "-o", help="set, append or delete.")
    ] = "set",
    no_create: Annotated[
        bool, typer.Option("--no-create", help="Only labels that exist already.")
    ] = False,
) -> None:
    """Set, append or delete a run's labels (as ``tw runs labels``; Seqera's
    ``/workflow/labels/apply|add|remove``).  Labels not found are created, unless
    --no-create (then an error naming the label); delete skips them.  A resource label
    (NAME=VALUE) tags the run's jobs at launch only: the server refuses to add or remove one
    afterwards."""
    from batchforge.client import labels as lb

    paths = {"set": "apply", "append": "add", "delete": "remove"}
    if operation not in paths:
        raise fail("--operations takes set, append or delete.", code=2)
    st = lo.scoped(ctx, workspace)
    try:
        specs = lb.parse_labels([labels])
    except ValueError as error:
        raise fail(str(error), code=2) from None
    if not specs:
        raise fail("Give the labels: NAME or NAME=VALUE, comma-separated.", code=2)
    missing = "skip" if operation == "delete" else "fail" if no_create else "create"
    with st.client() as client:
        try:
            ids = lb.find_ids(client, specs, missing)
        except LookupError as error:
            raise fail(
                str(error), hint="Create it first (labels add), or drop --no-create."
            ) from None
        body = {"workflowIds": [id_], "labelIds": ids}
        client.request("POST", f"/workflow/labels/{paths[operation]}", json=body)
    if st.structured:
        emit_json({"workflowId": id_, "operation": operation, "labelIds": ids})
        return
    say(f"'{operation}' labels on run with id '{id_}'.")


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
