"""``batchforge workspaces``: workspaces of your organizations (after ``tw workspaces``)."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import state
from batchforge.cli.scope import Org, done, org_of, show
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Workspaces.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Workspace name.")],
    org: Org = None,
    full_name: Annotated[str, typer.Option("--full-name", "-f", help="Full name")] = "",
) -> None:
    """Create a workspace in an organization you own; you become its owner."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        workspace = api.add_workspace(org_of(api, org), name, full_name)
    done(st, f"Workspace '{name}' added (id {workspace['id']}).", workspace)


@app.command("list")
def list_workspaces(ctx: typer.Context) -> None:
    """Your workspaces, with your effective role in each."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        entries = api.workspaces_of(int(api.me()["id"]))
    items = [
        {**e, "role": ",".join(e["roles"]), "ref": f"{e['orgName']}/{e['workspaceName']}"}
        for e in entries
        if e.get("workspaceId")
    ]
    show(
        st,
        "Workspaces",
        ["ID", "Organization/Workspace", "Full name", "Your role"],
        ["workspaceId", "ref", "workspaceFullName", "role"],
        items,
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Workspace id or Organization/Workspace.")],
) -> None:
    """Delete a workspace (owners only; it must have no compute environment left)."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = api.workspace_ref(ref)
        api.delete_workspace(org_id, workspace_id)
    done(st, f"Workspace '{ref}' deleted.")
