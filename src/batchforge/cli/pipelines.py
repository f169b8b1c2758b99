"""``batchforge pipelines``: saved launch configurations, with ``tw pipelines``' subcommands
and options (add, list, view, update, delete, export, import, versions list/manage,
labels).

A pipeline is named as ``tw`` names it (``-i ID`` or ``-n NAME``) or by batchforge's
positional NAME_OR_ID.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli import launch_opts as lo
from batchforge.cli.common import emit_json, emit_table, fail, pick, say

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient
    from batchforge.schemas.pipelines import PipelineDbDto

app = typer.Typer(help="Pipelines: saved launch configurations.", no_args_is_help=True)
versions_app = typer.Typer(help="Pipeline versions.", no_args_is_help=True)
app.add_typer(versions_app, name="versions")

Target = Annotated[str | None, typer.Argument(help="Pipeline name or id.", show_default=False)]
PipelineId = Annotated[str | None, typer.Option("--id", "-i", help="Pipeline id.")]
PipelineName = Annotated[str | None, typer.Option("--name", "-n", help="Pipeline name.")]
Revision = Annotated[str | None, typer.Option("--revision", "-r", help="Git revision.")]
Description = Annotated[str | None, typer.Option("--description", "-d")]
SchemaId = Annotated[int | None, typer.Option("--pipeline-schema-id", help="Pipeline schema id.")]


def select(
    client: BatchforgeClient, target: str | None, id_: str | None, name: str | None
) -> PipelineDbDto:
    """The pipeline given by a positional NAME_OR_ID, ``-i ID`` or ``-n NAME`` (one of them)."""
    from batchforge.client import pipelines as api

    pick(target, id_, name, "pipeline")
    if target is not None:
        return api.find_ref(client, target)
    return api.find(client, id_, name)


def _base_launch(client: BatchforgeClient, compute_env: str | None) -> dict[str, Any]:
    """``computeEnvId`` and the environment's work dir and scripts: ``compute_env`` or the
    primary environment (as ``tw pipelines add``)."""
    from batchforge.client.pipelines import compute_env_config, primary_compute_env

    if compute_env is None:
        primary = primary_compute_env(client)
        if primary is None:
            raise fail(
                "No compute environment: give --compute-env / -c, or make one primary.",
                "batchforge compute-envs primary set -n NAME",
            )
        compute_env = str(primary["id"])
    ce_id, config = compute_env_config(client, compute_env)
    return {
        "computeEnvId": ce_id,
        "workDir": config.get("workDir"),
        "preRunScript": config.get("preRunScript"),
        "postRunScript": config.get("postRunScript"),
    }


@app.command("add")
def add(
    ctx: typer.Context,
    repository: Annotated[str, typer.Argument(help="Repository URL.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Pipeline name.")],
    workspace: lo.WorkspaceOpt = None,
    description: Description = None,
    labels: lo.Labels = None,
    version_name: Annotated[
        str | None, typer.Option("--version-name", help="Name of the first version.")
    ] = None,
    pipeline_schema_id: SchemaId = None,
    compute_env: lo.ComputeEnv = None,
    work_dir: lo.WorkDir = None,
    profile: lo.Profile = None,
    params_file: lo.ParamsFile = None,
    revision: Revision = None,
    commit_id: lo.CommitId = None,
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
) -> None:
    """Add a pipeline (as ``tw pipelines add``): on --compute-env or the primary one."""
    st = lo.scoped(ctx, workspace)
    given = lo.launch_fields(
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
    with st.client() as client:
        launch = _base_launch(client, compute_env) | given
        launch["pipeline"] = repository
        if pipeline_schema_id is not None:
            launch["pipelineSchemaId"] = pipeline_schema_id
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "launch": {k: v for k, v in launch.items() if v is not None},
            "labelIds": lo.label_ids(client, labels),
        }
        if version_name:
            body["version"] = {"name": version_name}
        created = client.request("POST", "/pipelines", json=body).json()["pipeline"]
    if st.structured:
        emit_json(created)
        return
    say(f"Pipeline '{created['name']}' added (id {created['pipelineId']}).")


@app.command("list")
def list_pipelines(
    ctx: typer.Context,
    workspace: lo.WorkspaceOpt = None,
    search: Annotated[
        str | None, typer.Option("--filter", "-f", "--search", help="Names containing this.")
    ] = None,
    show_labels: Annotated[bool, typer.Option("--labels", "-l", help="Show labels.")] = False,
    visibility: Annotated[
        str,
        typer.Option(
            "--visibility",
            help="private: this workspace's; shared: the organization's shared workspaces'; all",
        ),
    ] = "private",
    max_results: lo.Max = None,
    offset: lo.Offset = None,
    page: lo.Page = None,
) -> None:
    """List pipelines (as ``tw pipelines list``)."""
    from batchforge.client.pipelines import list_page

    st = lo.scoped(ctx, workspace)
    size, skip = lo.paging(max_results, offset, page)
    with st.client() as client:
        found = list_page(client, search, size, skip, visibility.strip().lower())
    if st.structured:
        emit_json(found)
        return
    rows = []
    for p in found.get("pipelines") or []:
        row = [p.get("pipelineId"), p.get("name"), p.get("repository")]
        row.append((p.get("computeEnv") or {}).get("name"))
        row.append(p.get("visibility"))
        if show_labels:
            row.append(", ".join(_label_text(label) for label in p.get("labels") or []))
        rows.append(row)
    columns = ["ID", "Name", "Repository", "Compute env", "Visibility"]
    columns += ["Labels"] if show_labels else []
    emit_table(f"Pipelines ({found.get('totalSize', len(rows))})", columns, rows)


def _label_text(label: dict[str, Any]) -> str:
    value = label.get("value")
    return f"{label.get('name')}={value}" if label.get("resource") and value else label["name"]


@app.command("view")
def view(
    ctx: typer.Context,
    target: Target = None,
    id_: PipelineId = None,
    name: PipelineName = None,
    workspace: lo.WorkspaceOpt = None,
    version_id: lo.VersionId = None,
    version_name: lo.VersionName = None,
) -> None:
    """A pipeline and its launch (as ``tw pipelines view``)."""
    from batchforge.client import pipelines as api

    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        pipeline = select(client, target, id_, name)
        shown: dict[str, Any] | None
        if version_id or version_name:
            # As tw: the version from the list; an id not listed is passed on as is.
            shown = api.find_version(client, pipeline.pipelineId, version_id, version_name)
            if shown is None and not version_id:
                raise fail(f"Pipeline version '{version_name}' not found")
            version = version_id or str((shown or {}).get("id"))
        else:
            shown = pipeline.version.model_dump(mode="json") if pipeline.version else None
            version = None
        launch = api.describe_launch(client, pipeline.pipelineId, version)
    if st.structured:
        emit_json(
            {"pipeline": pipeline.model_dump(mode="json"), "launch": launch, "version": shown}
        )
        return
    rows = [
        ("ID", pipeline.pipelineId),
        ("Name", pipeline.name),
        ("Repository", pipeline.repository),
        ("Revision", launch.get("revision")),
        ("Compute env", (launch.get("computeEnv") or {}).get("name") or launch.get("computeEnvId")),
        ("Work dir", launch.get("workDir")),
        ("Profiles", ", ".join(launch.get("configProfiles") or [])),
        ("Description", pipeline.description),
        ("Labels", ", ".join(_label_text(lb.model_dump()) for lb in pipeline.labels or [])),
        ("Version Name", (shown or {}).get("name") or "(draft)"),
        ("Version Is Default", "yes" if (shown or {}).get("isDefault") else "no"),
        ("Version Hash", (shown or {}).get("hash")),
    ]
    emit_table(f"Pipeline {pipeline.name}", ["Field", "Value"], rows)
    if launch.get("paramsText"):
        say("Parameters:\n" + str(launch["paramsText"]).rstrip())


@app.command("update")
def update(
    ctx: typer.Context,
    target: Target = None,
    id_: PipelineId = None,
    name: PipelineName = None,
    workspace: lo.WorkspaceOpt = None,
    description: Description = None,
    new_name: Annotated[str | None, typer.Option("--new-name", help="Rename to this.")] = None,
    repository: Annotated[
        str | None, typer.Option("--pipeline", help="New repository URL.")
    ] = None,
    pipeline_schema_id: SchemaId = None,
    allow_draft: Annotated[
        bool, typer.Option("--allow-draft", help="Accepted as tw (versions: see README).")
    ] = False,
    version_id: lo.VersionId = None,
    version_name: lo.VersionName = None,
    compute_env: lo.ComputeEnv = None,
    work_dir: lo.WorkDir = None,
    profile: lo.Profile = None,
    params_file: lo.ParamsFile = None,
    revision: Revision = None,
    commit_id: lo.CommitId = None,
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
) -> None:
    """Change a pipeline (as ``tw pipelines update``): options override its saved launch."""
    from batchforge.client import pipelines as api

    st = lo.scoped(ctx, workspace)
    given = lo.launch_fields(
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
    with st.client() as client:
        pipeline = select(client, target, id_, name)
        version = api.version_id(client, pipeline.pipelineId, version_id, version_name)
        saved = api.describe_launch(client, pipeline.pipelineId, version)
        launch = {k: v for k, v in saved.items() if k not in _DESCRIPTIVE and v is not None}
        if compute_env:
            launch["computeEnvId"] = client.find_compute_env(compute_env).id
        launch |= given
        if repository:
            launch["pipeline"] = repository
        if pipeline_schema_id is not None:
            launch["pipelineSchemaId"] = pipeline_schema_id
        body: dict[str, Any] = {
            "name": new_name or pipeline.name,
            "description": description if description is not None else pipeline.description,
            "launch": launch,
            "labelIds": [label.id for label in pipeline.labels or []],
        }
        # As tw: the version updated is the one named, else the default.
        target_id = version or (pipeline.version.id if pipeline.version else None)
        if target_id:
            path = f"/pipelines/{pipeline.pipelineId}/versions/{target_id}"
            answer = client.request("POST", path, json=body).json()
        else:
            answer = client.request("PUT", f"/pipelines/{pipeline.pipelineId}", json=body).json()
    made = (answer.get("pipeline") or {}).get("version") or {}
    new_version = made.get("name") if target_id and made.get("id") != target_id else None
    if st.structured:
        emit_json({"pipelineId": pipeline.pipelineId, "name": body["name"], "version": made})
        return
    say(f"Pipeline '{body['name']}' updated.")
    if new_version:
        say(f"New version '{new_version}' created and set as default.")


_DESCRIPTIVE = ("id", "dateCreated", "lastUpdated", "workspaceId", "computeEnv", "resumeDir")


@app.command("delete")
def delete(
    ctx: typer.Context,
    target: Target = None,
    id_: PipelineId = None,
    name: PipelineName = None,
    workspace: lo.WorkspaceOpt = None,
) -> None:
    """Delete a pipeline (as ``tw pipelines delete``)."""
    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        pipeline = select(client, target, id_, name)
        client.delete_pipeline(pipeline.pipelineId)
    if st.structured:
        emit_json({"pipelineId": pipeline.pipelineId, "deleted": True})
        return
    say(f"Pipeline '{pipeline.name}' deleted.")


@app.command("export")
def export(
    ctx: typer.Context,
    file_name: Annotated[
        str | None, typer.Argument(help="File to write (default or '-': standard output).")
    ] = None,
    id_: PipelineId = None,
    name: PipelineName = None,
    workspace: lo.WorkspaceOpt = None,
    version_id: lo.VersionId = None,
    version_name: lo.VersionName = None,
) -> None:
    """The pipeline as a create request (JSON) that ``pipelines import`` reads back."""
    from batchforge.client import pipelines as api

    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        pipeline = select(client, None, id_, name)
        version = api.version_id(client, pipeline.pipelineId, version_id, version_name)
        saved = api.describe_launch(client, pipeline.pipelineId, version)
    launch = {k: v for k, v in saved.items() if k not in _DESCRIPTIVE and v is not None}
    body: dict[str, Any] = {"description": pipeline.description, "launch": launch}
    if pipeline.icon:
        body["icon"] = pipeline.icon
    if version_name:
        body["version"] = {"name": version_name}
    text = json.dumps({k: v for k, v in body.items() if v is not None}, indent=2)
    if file_name and file_name != "-":
        Path(file_name).write_text(text + "\n")
        say(f"Pipeline '{pipeline.name}' exported to {file_name}.")
        return
    typer.echo(text)


@app.command("import")
def import_(
    ctx: typer.Context,
    file_name: Annotated[Path, typer.Argument(help="JSON written by `pipelines export`.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Name of the new pipeline.")],
    workspace: lo.WorkspaceOpt = None,
    compute_env: lo.ComputeEnv = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a pipeline of that name.")
    ] = False,
) -> None:
    """Add a pipeline from an exported JSON file (as ``tw pipelines import``)."""
    from batchforge.client import pipelines as api
    from batchforge.client.api import ApiError

    st = lo.scoped(ctx, workspace)
    text = lo.FileReader().read(file_name, "FILENAME") or ""
    try:
        body = json.loads(text)
    except ValueError as error:
        raise fail(f"{file_name}: not JSON ({error}).") from None
    if not isinstance(body, dict) or not isinstance(body.get("launch"), dict):
        raise fail(f"{file_name}: no 'launch' object: is it a `pipelines export` file?")
    launch = body["launch"]
    ce_ref = compute_env or launch.get("computeEnvId")
    if not ce_ref:
        raise fail("No compute environment: give --compute-env or the field 'launch.computeEnvId'.")
    body["name"] = name
    with st.client() as client:
        ce_id, config = api.compute_env_config(client, str(ce_ref))
        launch["computeEnvId"] = ce_id
        for key, source in (
            ("workDir", "workDir"),
            ("preRunScript", "preRunScript"),
            ("postRunScript", "postRunScript"),
        ):
            launch[key] = launch.get(key) or config.get(source)
        if overwrite:
            try:
                client.delete_pipeline(api.find(client, None, name).pipelineId)
            except ApiError as error:
                if error.status != 404:
                    raise
        created = client.request("POST", "/pipelines", json=body).json()["pipeline"]
    if st.structured:
        emit_json(created)
        return
    say(f"Pipeline '{created['name']}' imported (id {created['pipelineId']}).")


@app.command("labels")
def labels_cmd(
    ctx: typer.Context,
    labels: Annotated[str, typer.Argument(help="Labels, comma-separated: NAME or NAME=VALUE.")],
    id_: PipelineId = None,
    name: PipelineName = None,
    workspace: lo.WorkspaceOpt = None,
    operation: Annotated[
        str, typer.Option("--operations", "-o", help="set, append or delete.")
    ] = "set",
    no_create: Annotated[
        bool, typer.Option("--no-create", help="Only labels that exist already.")
    ] = False,
) -> None:
    """Set, append or delete a pipeline's labels (as ``tw pipelines labels``)."""
    from batchforge.client import labels as lb

    if operation not in ("set", "append", "delete"):
        raise fail("--operations takes set, append or delete.", code=2)
    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        pipeline = select(client, None, id_, name)
        try:
            specs = lb.parse_labels([labels])
        except ValueError as error:
            raise fail(str(error)) from None
        if no_create or operation == "delete":
            known, _ = lb.list_labels(client, max_results=1000)
            ids = [
                label.id
                for spec in specs
                for label in known
                if label.name == spec.name and (spec.value is None or label.value == spec.value)
            ]
        else:
            ids = lb.find_or_create(client, specs)
        current = [label.id for label in pipeline.labels or []]
        if operation == "set":
            chosen = ids
        elif operation == "append":
            chosen = current + [i for i in ids if i not in current]
        else:
            chosen = [i for i in current if i not in ids]
        client.request("PUT", f"/pipelines/{pipeline.pipelineId}", json={"labelIds": chosen})
    say(f"Labels of pipeline '{pipeline.name}' updated ({operation}).")


@versions_app.command("list")
def list_versions(
    ctx: typer.Context,
    id_: PipelineId = None,
    name: PipelineName = None,
    workspace: lo.WorkspaceOpt = None,
    search: Annotated[str | None, typer.Option("--filter", "-f", help="Name prefix.")] = None,
    published: Annotated[
        bool | None, typer.Option("--is-published", help="Only published (true) or drafts.")
    ] = None,
    full_hash: Annotated[bool, typer.Option("--full-hash", help="Hashes not cut short.")] = False,
    max_results: lo.Max = None,
    offset: lo.Offset = None,
    page: lo.Page = None,
) -> None:
    """A pipeline's versions (as ``tw pipelines versions list``)."""
    from batchforge.client import pipelines as api

    st = lo.scoped(ctx, workspace)
    size, skip = lo.paging(max_results, offset, page)
    with st.client() as client:
        pipeline = select(client, None, id_, name)
        found = api.list_versions(client, pipeline.pipelineId, search, size, skip, published)
    if st.structured:
        emit_json(found)
        return
    rows = []
    for item in found.get("versions") or []:
        version = (item or {}).get("version") or {}
        digest = str(version.get("hash") or "")
        rows.append(
            (
                version.get("id"),
                version.get("name"),
                version.get("isDefault"),
                digest if full_hash else digest[:12],
                version.get("dateCreated"),
            )
        )
    emit_table(
        f"Versions of pipeline {pipeline.name}",
        ["ID", "Name", "Default", "Hash", "Created"],
        rows,
    )


@versions_app.command("manage")
def manage_version(
    ctx: typer.Context,
    id_: PipelineId = None,
    name: PipelineName = None,
    workspace: lo.WorkspaceOpt = None,
    version_id: lo.VersionId = None,
    version_name: lo.VersionName = None,
    new_name: Annotated[
        str | None, typer.Option("--new-name", help="New name of the version.")
    ] = None,
    set_default: Annotated[
        bool, typer.Option("--set-default", help="Make the version the default.")
    ] = False,
) -> None:
    """Rename a version and/or make it the default (as ``tw pipelines versions manage``)."""
    from batchforge.client import pipelines as api

    if (version_id is None) == (version_name is None):
        raise fail("Give one of --version-id or --version-name.", code=2)
    if new_name is None and not set_default:
        raise fail("Give --new-name and/or --set-default.", code=2)
    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        pipeline = select(client, None, id_, name)
        version = api.version_id(client, pipeline.pipelineId, version_id, version_name)
        body: dict[str, Any] = {"name": new_name}
        if set_default:
            body["isDefault"] = True
        path = f"/pipelines/{pipeline.pipelineId}/versions/{version}/manage"
        client.request("PUT", path, json={k: v for k, v in body.items() if v is not None})
    if st.structured:
        emit_json({"pipelineId": pipeline.pipelineId, "versionId": version})
        return
    say(f"Pipeline version '{version}' of pipeline '{pipeline.name}' updated.")
