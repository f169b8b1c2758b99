"""``batchforge pipeline-schemas``: save a pipeline schema (JSON Schema document) in a
workspace, with ``tw pipeline-schemas``' subcommand and options (add -c FILE)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from batchforge.cli import launch_opts as lo
from batchforge.cli.common import emit_json, say

app = typer.Typer(
    help="Pipeline schemas: JSON Schema documents for launches.", no_args_is_help=True
)


@app.command("add")
def add(
    ctx: typer.Context,
    content: Annotated[
        Path,
        typer.Option(
            "--content", "-c", help="File holding the schema (e.g. nextflow_schema.json); - stdin."
        ),
    ],
    workspace: lo.WorkspaceOpt = None,
) -> None:
    """Add a pipeline schema (``POST /pipeline-schemas``); its id is for ``pipelines add
    --pipeline-schema-id``.  Launches of such a pipeline have their parameters checked
    against the schema's declared types, enums and patterns."""
    text = lo.FileReader().read(content, "--content")
    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        response = client.request("POST", "/pipeline-schemas", json={"content": text})
        created = response.json()["pipelineSchema"]
    if st.structured:
        emit_json({"schemaId": created["id"], "workspaceId": client.workspace_id})
        return
    where = f"workspace {st.workspace}" if st.workspace else "your default workspace"
    say(f"New pipeline schema '{created['id']}' added in {where}.")
