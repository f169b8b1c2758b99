"""``batchforge labels``: plain and resource labels, with ``tw labels``' subcommands and
options (add, list, update, delete)."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli import launch_opts as lo
from batchforge.cli.common import emit_json, emit_table, fail, say

app = typer.Typer(help="Labels: plain (NAME) and resource (NAME=VALUE).", no_args_is_help=True)
LabelId = Annotated[int, typer.Option("--id", "-i", help="Label id.")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Label name.")],
    value: Annotated[
        str | None, typer.Option("--value", "-v", help="Value: makes a resource label.")
    ] = None,
    workspace: lo.WorkspaceOpt = None,
) -> None:
    """Add a label; with --value a resource label (tagged onto AWS resources)."""
    from batchforge.client.labels import LabelSpec, create_label

    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        created = create_label(client, LabelSpec(name, value))
    if st.structured:
        emit_json(created.model_dump(mode="json"))
        return
    kind = "Resource label" if created.resource else "Label"
    shown = f"{created.name}={created.value}" if created.resource else created.name
    say(f"{kind} '{shown}' added (id {created.id}).")


@app.command("list")
def list_labels(
    ctx: typer.Context,
    workspace: lo.WorkspaceOpt = None,
    kind: Annotated[str, typer.Option("--type", "-t", help="normal, resource or all.")] = "all",
    search: Annotated[
        str | None, typer.Option("--filter", "-f", help="Names containing this.")
    ] = None,
    max_results: lo.Max = None,
    offset: lo.Offset = None,
    page: lo.Page = None,
) -> None:
    """List labels (as ``tw labels list``)."""
    from batchforge.client import labels as lb

    if kind not in ("normal", "simple", "resource", "all"):
        raise fail("--type takes normal, resource or all.", code=2)
    st = lo.scoped(ctx, workspace)
    size, skip = lo.paging(max_results, offset, page)
    with st.client() as client:
        items, total = lb.list_labels(client, search, kind, size, skip)
    if st.structured:
        emit_json({"labels": [x.model_dump(mode="json") for x in items], "totalSize": total})
        return
    rows = [(x.id, x.name, x.value if x.resource else "", x.resource, x.isDefault) for x in items]
    emit_table("Labels", ["ID", "Name", "Value", "Resource", "Default"], rows)


@app.command("update")
def update(
    ctx: typer.Context,
    label_id: LabelId,
    name: Annotated[str | None, typer.Option("--name", "-n", help="New name.")] = None,
    value: Annotated[str | None, typer.Option("--value", "-v", help="New value.")] = None,
    workspace: lo.WorkspaceOpt = None,
) -> None:
    """Rename a label or change a resource label's value (``PUT /labels/{id}``)."""
    from batchforge.client.labels import update_label

    if name is None and value is None:
        raise fail("Give --name and/or --value to change.", code=2)
    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        updated = update_label(client, label_id, name, value)
    if st.structured:
        emit_json(updated.model_dump(mode="json"))
        return
    shown = f"{updated.name}={updated.value}" if updated.value is not None else updated.name
    say(f"Label with id '{label_id}' updated to '{shown}'.")


@app.command("delete")
def delete(ctx: typer.Context, label_id: LabelId, workspace: lo.WorkspaceOpt = None) -> None:
    """Delete a label (it is removed from what carries it)."""
    from batchforge.client.labels import delete_label

    st = lo.scoped(ctx, workspace)
    with st.client() as client:
        delete_label(client, label_id)
    if st.structured:
        emit_json({"id": label_id, "deleted": True})
        return
    say(f"Label {label_id} deleted.")
