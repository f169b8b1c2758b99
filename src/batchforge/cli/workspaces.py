"""``batchforge workspaces``: workspaces of your organizations, as ``tw workspaces``
(``add -n NAME -o ORG -f FULL``, ``view|delete|leave -i ID|-n Org/Workspace``, ``update -i``);
the positional name and ``--org`` are batchforge's aliases."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import fail, pick, state
from batchforge.cli.scope import org_of, show
from batchforge.cli.tw_infra import IdOpt, OrgOpt, Overwrite, emit, upper_choice
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Workspaces.", no_args_is_help=True)
Ref = Annotated[
    str | None,
    typer.Argument(help="Workspace id or Organization/Workspace (or -i/-n).", show_default=False),
]
RefName = Annotated[
    str | None,
    typer.Option("--name", "-n", help="Organization/Workspace", show_default=False),
]


@app.command("add")
def add(
    ctx: typer.Context,
    name_arg: Annotated[
        str | None, typer.Argument(help="Workspace name (or -n).", show_default=False)
    ] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", show_default=False)] = None,
    org: OrgOpt = None,
    full_name: Annotated[str, typer.Option("--full-name", "-f", help="Full name")] = "",
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    visibility: Annotated[
        str, typer.Option("--visibility", "-v", help="PRIVATE or SHARED")
    ] = "PRIVATE",
    overwrite: Overwrite = False,
) -> None:
    """Create a workspace in an organization you own; you become its owner."""
    chosen = pick(name_arg, None, name, "workspace")
    shown = upper_choice(visibility, "--visibility", ("PRIVATE", "SHARED"))
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        if overwrite:
            for existing in api.list_workspaces(org_id):
                if existing["name"] == chosen:
                    api.delete_workspace(org_id, int(existing["id"]))
        workspace = api.add_workspace(
            org_id, chosen, full_name, description=description, visibility=shown
        )
        org_name = api.describe_org(org_id)["name"]
    emit(
        st,
        f"A '{workspace.get('visibility', shown)}' workspace '{chosen}' (id {workspace['id']}) "
        f"added for '{org_name}' organization.",
        {
            **workspace,
            "workspaceName": workspace["name"],
            "organizationName": org_name,
            "visibility": workspace.get("visibility", shown),
        },
    )


@app.command("list")
def list_workspaces(ctx: typer.Context, org: OrgOpt = None) -> None:
    """Your workspaces, with your effective role in each (-o ORG: of one organization)."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        me = api.me()
        entries = api.workspaces_of(int(me["id"]))
    items = [
        {**e, "role": ",".join(e["roles"]), "ref": f"{e['orgName']}/{e['workspaceName']}"}
        for e in entries
        if e.get("workspaceId") and (org is None or org in (e["orgName"], str(e["orgId"])))
    ]
    if st.structured:
        emit(st, "", {"userName": me["userName"], "workspaces": items})
        return
    show(
        st,
        "Workspaces",
        ["ID", "Organization/Workspace", "Full name", "Your role"],
        ["workspaceId", "ref", "workspaceFullName", "role"],
        items,
    )


def _resolve(api: AccountsApi, ref: str | None, id_: str | None, name: str | None):
    """``(org id, workspace id, org name, workspace name)`` of the workspace named."""
    chosen = pick(ref, id_, name, "workspace")
    if name and "/" not in name:
        raise fail(f"-n takes Organization/Workspace, got '{name}'.", code=2)
    org_id, workspace_id = api.workspace_ref(chosen)
    for entry in api.workspaces_of(int(api.me()["id"])):
        if entry.get("workspaceId") == workspace_id:
            return org_id, workspace_id, entry["orgName"], entry["workspaceName"]
    return org_id, workspace_id, str(org_id), str(workspace_id)


@app.command("view")
def view(ctx: typer.Context, ref: Ref = None, id_: IdOpt = None, name: RefName = None) -> None:
    """A workspace's details."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id, org_name, _ = _resolve(api, ref, id_, name)
        workspace = api.describe_workspace(org_id, workspace_id)
    if st.structured:
        emit(st, "", {"workspace": workspace})
        return
    for key in ("id", "name", "fullName", "description", "visibility", "dateCreated"):
        typer.echo(f"{key:>12}: {'' if workspace.get(key) is None else workspace[key]}")
    typer.echo(f"{'organization':>12}: {org_name}")


@app.command("update")
def update(
    ctx: typer.Context,
    ref: Ref = None,
    id_: IdOpt = None,
    name: RefName = None,
    new_name: Annotated[str | None, typer.Option("--new-name", help="New name.")] = None,
    full_name: Annotated[
        str | None, typer.Option("--fullName", "--full-name", "-f", help="New full name.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    visibility: Annotated[
        str | None,
        typer.Option(
            "--visibility",
            "-v",
            help="PRIVATE or SHARED (batchforge's; tw's update has none and keeps it).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Rename a workspace or change its full name, description or visibility."""
    if new_name is None and full_name is None and description is None and visibility is None:
        raise fail("Required at least one option to update.", code=2)
    shown = upper_choice(visibility, "--visibility", ("PRIVATE", "SHARED")) if visibility else None
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id, org_name, ws_name = _resolve(api, ref, id_, name)
        current = api.describe_workspace(org_id, workspace_id)
        api.update_workspace(
            org_id,
            workspace_id,
            name=new_name,
            fullName=full_name if full_name is not None else current.get("fullName"),
            description=description if description is not None else current.get("description"),
            visibility=shown,
        )
    emit(
        st,
        f"Workspace '{ws_name}' updated for '{org_name}' organization.",
        {
            "workspaceName": new_name or ws_name,
            "organizationName": org_name,
            "visibility": shown or current.get("visibility"),
        },
    )


@app.command("delete")
def delete(ctx: typer.Context, ref: Ref = None, id_: IdOpt = None, name: RefName = None) -> None:
    """Delete a workspace (owners only; it must have no compute environment left)."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id, org_name, ws_name = _resolve(api, ref, id_, name)
        api.delete_workspace(org_id, workspace_id)
    emit(
        st,
        f"Workspace '{ws_name}' deleted from '{org_name}' organization.",
        {"workspaceRef": ws_name, "organizationRef": org_name},
    )


@app.command("leave")
def leave(ctx: typer.Context, ref: Ref = None, id_: IdOpt = None, name: RefName = None) -> None:
    """Stop being a direct participant of a workspace."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id, _, ws_name = _resolve(api, ref, id_, name)
        api.leave_workspace(org_id, workspace_id)
    emit(st, f"You left workspace '{ws_name}'.", {"workspaceName": ws_name})
