"""``batchforge launch``: launch a saved pipeline or a repository URL (after ``tw launch``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli.common import emit_json, fail, say, state

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient

STATUSES = ("SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN")
FINAL = {"SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN"}


def _label_ids(client: BatchforgeClient, labels: list[str] | None) -> list[int]:
    ids = []
    for value in labels or []:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            name, sep, label_value = item.partition("=")
            if not sep:
                raise fail(f"--labels takes NAME=VALUE, got '{item}'.")
            ids.append(client.ensure_resource_label(name, label_value))
    return ids


def wait_for(
    client: BatchforgeClient, run_id: str, wanted: str, timeout: float, interval: float = 0.25
) -> str:
    """Poll until the run reaches ``wanted`` or a status it cannot leave; the last status.
    Polls quickly at first, then every 5 s at most."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        status = client.describe_workflow(run_id).workflow.status
        if status != last:
            say(f"  {run_id}: {status}")
            last = status
        if status == wanted or status in FINAL or time.monotonic() > deadline:
            return status
        time.sleep(interval)
        interval = min(interval * 2, 5.0)


def launch(
    ctx: typer.Context,
    pipeline: Annotated[
        str, typer.Argument(help="Saved pipeline name or id, or a repository URL.")
    ],
    compute_env: Annotated[
        str | None, typer.Option("--compute-env", "-c", help="Compute environment name or id.")
    ] = None,
    params_file: Annotated[
        Path | None, typer.Option("--params-file", help="Parameters file (JSON or YAML).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Extra Nextflow config file.")
    ] = None,
    revision: Annotated[str | None, typer.Option("--revision", "-r")] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Run name.")] = None,
    work_dir: Annotated[str | None, typer.Option("--work-dir")] = None,
    profile: Annotated[
        list[str] | None, typer.Option("--profile", help="Config profile(s).")
    ] = None,
    labels: Annotated[list[str] | None, typer.Option("--labels", help="NAME=VALUE, ...")] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", help="Workspace pipeline secret(s) to hand to the run."),
    ] = None,
    user_secret: Annotated[
        list[str] | None,
        typer.Option("--user-secret", help="Your user secret(s) to hand to the run."),
    ] = None,
    wait: Annotated[
        str | None, typer.Option("--wait", help=f"Wait for a status: {', '.join(STATUSES)}.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait at most.")] = 3600.0,
) -> None:
    """Launch a run.  With --wait, exit 0 when the status is reached, 1 otherwise."""
    if wait is not None and wait.upper() not in STATUSES:
        raise fail(f"--wait takes one of {', '.join(STATUSES)}.")
    st = state(ctx)
    with st.client() as client:
        fields: dict[str, Any] = {
            "revision": revision,
            "runName": name,
            "workDir": work_dir,
            "paramsText": params_file.read_text() if params_file else None,
            "configText": config.read_text() if config else None,
            "configProfiles": _csv(profile) or None,
            "labelIds": _label_ids(client, labels) or None,
            "workspaceSecrets": _csv(secret) or None,
            "userSecrets": _csv(user_secret) or None,
        }
        if compute_env:
            fields["computeEnvId"] = client.find_compute_env(compute_env).id
        fields = {k: v for k, v in fields.items() if v is not None}
        saved = client.find_pipeline(pipeline)
        if saved is not None:
            run_id = client.launch_pipeline(saved.pipelineId, fields)
        else:
            if "computeEnvId" not in fields:
                primary = client.request("GET", "/compute-envs").json()["computeEnvs"]
                chosen = [e for e in primary if e.get("primary")]
                if not chosen:
                    raise fail("Choose a compute environment with --compute-env / -c.")
                fields["computeEnvId"] = chosen[0]["id"]
            run_id = client.launch_workflow({"pipeline": pipeline, **fields})
        if st.structured and not wait:
            emit_json({"workflowId": run_id})
            return
        say(f"Workflow {run_id} submitted.")
        if wait:
            status = wait_for(client, run_id, wait.upper(), timeout)
            if status != wait.upper():
                raise fail(f"Workflow {run_id} ended {status}, not {wait.upper()}.")


def _csv(values: list[str] | None) -> list[str]:
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def register(app: typer.Typer) -> None:
    app.command("launch")(launch)
