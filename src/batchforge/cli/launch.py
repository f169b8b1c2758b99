"""``batchforge launch``: launch a saved pipeline or a repository URL, with ``tw launch``'s
options (and batchforge's ``--secret``/``--user-secret``/``--timeout``).

As ``tw``: a saved pipeline's launch is the base and the options override it; ``-c`` takes
that environment's work directory (and its pre/post-run scripts and config where the launch
has none); without an environment the saved one, else the workspace's primary, is used.
With ``--wait STATUS`` the exit code is 0 when the run reaches it, 1 when it ends otherwise.
"""

from __future__ import annotations

import enum
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli import launch_opts as lo
from batchforge.cli.common import emit_json, fail, say

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient

STATUSES = ("SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN")
FINAL = {"SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN"}
URL_PREFIXES = ("https://", "http://", "file:/")


class WaitStatus(enum.StrEnum):
    """``--wait``: a run status (any case)."""

    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


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
    workspace: lo.WorkspaceOpt = None,
    params_file: lo.ParamsFile = None,
    compute_env: lo.ComputeEnv = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Run name.")] = None,
    work_dir: lo.WorkDir = None,
    profile: lo.Profile = None,
    revision: Annotated[str | None, typer.Option("--revision", "-r")] = None,
    commit_id: lo.CommitId = None,
    version_id: lo.VersionId = None,
    version_name: lo.VersionName = None,
    wait: Annotated[
        WaitStatus | None,
        typer.Option(
            "--wait", case_sensitive=False, help="Wait until the run reaches this status."
        ),
    ] = None,
    labels: lo.Labels = None,
    launch_container: Annotated[
        str | None, typer.Option("--launch-container", help="Head job container image.")
    ] = None,
    config: lo.ConfigFile = None,
    pre_run: lo.PreRun = None,
    post_run: lo.PostRun = None,
    pull_latest: lo.PullLatest = None,
    stub_run: lo.StubRun = None,
    main_script: lo.MainScript = None,
    entry_name: lo.EntryName = None,
    schema_name: lo.SchemaName = None,
    user_secrets: lo.UserSecrets = None,
    workspace_secrets: lo.WorkspaceSecrets = None,
    disable_optimization: Annotated[
        bool, typer.Option("--disable-optimization", help="Drop the saved optimization.")
    ] = False,
    head_job_cpus: Annotated[
        int | None, typer.Option("--head-job-cpus", min=1, help="CPUs of the head job.")
    ] = None,
    head_job_memory: Annotated[
        int | None,
        typer.Option("--head-job-memory", min=1, help="Memory of the head job (MB)."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="With --wait: seconds to wait at most.")] = 3600.0,
) -> None:
    """Launch a run (as ``tw launch``)."""
    st = lo.scoped(ctx, workspace)
    fields = lo.launch_fields(
        lo.FileReader(),
        params_file=params_file,
        config=config,
        pre_run=pre_run,
        post_run=post_run,
        work_dir=work_dir,
        revision=revision,
        commit_id=commit_id,
        profile=profile,
        pull_latest=pull_latest,
        stub_run=stub_run,
        main_script=main_script,
        entry_name=entry_name,
        schema_name=schema_name,
        user_secrets=user_secrets,
        workspace_secrets=workspace_secrets,
    )
    extra = {
        "runName": name,
        "launchContainer": launch_container,
        "headJobCpus": head_job_cpus,
        "headJobMemoryMb": head_job_memory,
    }
    fields |= {k: v for k, v in extra.items() if v is not None}
    with st.client() as client:
        if pipeline.startswith(URL_PREFIXES) or _is_repository(client, pipeline):
            if version_id or version_name:
                raise fail("--version-id/--version-name apply to a saved pipeline, not a URL.")
            body = _url_launch(client, pipeline, compute_env)
        else:
            body = _saved_launch(client, pipeline, compute_env, version_id, version_name)
        if disable_optimization:
            body.pop("optimizationId", None)
            body.pop("optimizationTargets", None)
        body |= fields
        ids = lo.label_ids(client, labels)
        if ids:
            body["labelIds"] = ids
        run_id = client.launch_workflow({k: v for k, v in body.items() if v is not None})
        if st.structured and not wait:
            emit_json({"workflowId": run_id, "workspaceId": client.workspace_id})
            return
        say(f"Workflow {run_id} submitted.")
        if wait:
            status = wait_for(client, run_id, wait.value, timeout)
            if status != wait.value:
                raise fail(f"Workflow {run_id} ended {status}, not {wait.value}.")


def _url_launch(client: BatchforgeClient, url: str, compute_env: str | None) -> dict[str, Any]:
    """The base of a launch of a repository URL: the environment's work dir and scripts."""
    from batchforge.client.pipelines import compute_env_config, primary_compute_env

    if compute_env:
        ce_id, config = compute_env_config(client, compute_env)
    else:
        primary = primary_compute_env(client)
        if primary is None:
            raise fail(
                "No compute environment: give --compute-env / -c, or make one primary.",
                "batchforge compute-envs primary set -n NAME",
            )
        ce_id, config = compute_env_config(client, str(primary["id"]))
    return {
        "pipeline": url,
        "computeEnvId": ce_id,
        "workDir": config.get("workDir"),
        "preRunScript": config.get("preRunScript"),
        "postRunScript": config.get("postRunScript"),
    }


def _is_repository(client: BatchforgeClient, ref: str) -> bool:
    """batchforge extension: ``owner/repo`` (Nextflow's shorthand for a GitHub repository)
    is launched as a repository when no saved pipeline has that name."""
    from batchforge.client import pipelines as api
    from batchforge.client.api import ApiError

    if ref.count("/") != 1 or " " in ref:
        return False
    try:
        api.find(client, None, ref)
    except ApiError as error:
        if error.status == 404:
            return True
        raise
    return False


# Fields of a saved launch (LaunchDbDto) that describe it, not what to launch.
_DESCRIPTIVE = ("id", "dateCreated", "lastUpdated", "workspaceId", "computeEnv", "resumeDir")


def _saved_launch(
    client: BatchforgeClient,
    ref: str,
    compute_env: str | None,
    version_id: str | None,
    version_name: str | None,
) -> dict[str, Any]:
    """The saved pipeline's launch, on ``compute_env`` if given (its work dir; its scripts
    and config where the launch has none), else on the saved or the primary environment."""
    from batchforge.client import pipelines as api
    from batchforge.client.api import ApiError

    try:
        saved = api.find_ref(client, ref)
    except ApiError as error:
        if error.status == 404:
            raise fail(
                f"Pipeline '{ref}' not found in this workspace.",
                "Give a saved pipeline's name or id, or a repository URL (https://...).",
            ) from None
        raise
    version = api.version_id(client, saved.pipelineId, version_id, version_name)
    launch = api.describe_launch(client, saved.pipelineId, version)
    body = {k: v for k, v in launch.items() if k not in _DESCRIPTIVE}
    if compute_env:
        ce_id, config = api.compute_env_config(client, compute_env)
        body["computeEnvId"] = ce_id
        body["workDir"] = config.get("workDir")
        for key, source in (
            ("preRunScript", "preRunScript"),
            ("postRunScript", "postRunScript"),
            ("configText", "nextflowConfig"),
        ):
            body[key] = body.get(key) or config.get(source)
    if not body.get("computeEnvId"):
        primary = api.primary_compute_env(client)
        if primary is None:
            raise fail("No compute environment: give --compute-env / -c, or make one primary.")
        body["computeEnvId"] = primary["id"]
    if not body.get("workDir"):
        body["workDir"] = api.compute_env_config(client, str(body["computeEnvId"]))[1].get(
            "workDir"
        )
    return body


def register(app: typer.Typer) -> None:
    app.command("launch")(launch)
