"""``batchforge pipelines``: saved launch configurations (after ``tw pipelines``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from batchforge.cli.common import emit_json, emit_table, fail, say, state

app = typer.Typer(help="Pipelines: saved launch configurations.", no_args_is_help=True)
Target = Annotated[str, typer.Argument(help="Pipeline name or id.")]


@app.command("add")
def add(
    ctx: typer.Context,
    repository: Annotated[str, typer.Argument(help="Repository URL.")],
    name: Annotated[str, typer.Option("--name", "-n")],
    compute_env: Annotated[str | None, typer.Option("--compute-env", "-c")] = None,
    revision: Annotated[str | None, typer.Option("--revision", "-r")] = None,
    params_file: Annotated[Path | None, typer.Option("--params-file")] = None,
    config: Annotated[Path | None, typer.Option("--config")] = None,
    work_dir: Annotated[str | None, typer.Option("--work-dir")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
) -> None:
    st = state(ctx)
    with st.client() as client:
        launch: dict[str, Any] = {"pipeline": repository, "revision": revision, "workDir": work_dir}
        if compute_env:
            launch["computeEnvId"] = client.find_compute_env(compute_env).id
        if params_file:
            launch["paramsText"] = params_file.read_text()
        if config:
            launch["configText"] = config.read_text()
        launch = {k: v for k, v in launch.items() if v is not None}
        created = client.create_pipeline(name, launch, description)
    if st.structured:
        emit_json(created.model_dump(mode="json"))
        return
    say(f"Pipeline '{created.name}' added (id {created.pipelineId}).")


@app.command("list")
def list_pipelines(ctx: typer.Context) -> None:
    st = state(ctx)
    with st.client() as client:
        items = client.list_pipelines()
    if st.structured:
        emit_json([p.model_dump(mode="json") for p in items])
        return
    rows = [
        (p.pipelineId, p.name, p.repository, p.computeEnv.name if p.computeEnv else None)
        for p in items
    ]
    emit_table("Pipelines", ["ID", "Name", "Repository", "Compute env"], rows)


def _find(client: Any, target: str) -> Any:
    found = client.find_pipeline(target)
    if found is None:
        raise fail(f"No pipeline named or with id '{target}'.")
    return found


@app.command("view")
def view(ctx: typer.Context, target: Target) -> None:
    st = state(ctx)
    with st.client() as client:
        pipeline = _find(client, target)
        launch = client.describe_pipeline_launch(pipeline.pipelineId)
    if st.structured:
        emit_json(
            {"pipeline": pipeline.model_dump(mode="json"), "launch": launch.model_dump(mode="json")}
        )
        return
    rows = [
        ("ID", pipeline.pipelineId),
        ("Name", pipeline.name),
        ("Repository", pipeline.repository),
        ("Revision", launch.revision),
        ("Compute env", launch.computeEnvId),
        ("Work dir", launch.workDir),
        ("Description", pipeline.description),
    ]
    emit_table(f"Pipeline {pipeline.name}", ["Field", "Value"], rows)


@app.command("delete")
def delete(ctx: typer.Context, target: Target) -> None:
    with state(ctx).client() as client:
        pipeline = _find(client, target)
        client.delete_pipeline(pipeline.pipelineId)
    say(f"Pipeline '{pipeline.name}' deleted.")
