"""``batchforge participants``: a workspace's participants — members or teams — and roles.

The workspace is ``-w`` (here or global: an id or ``Organization/Workspace``), else
``TOWER_WORKSPACE_ID``, else your default workspace.
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from batchforge.cli.common import state
from batchforge.cli.scope import WorkspaceOpt, current_workspace, done, show
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Workspace participants and their roles.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="User name or e-mail, or a team name (--type team).")]
Kind = Annotated[Literal["member", "team"], typer.Option("--type", "-t", help="member or team")]
Role = Literal["owner", "admin", "maintain", "launch", "connect", "view"]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Name,
    kind: Kind = "member",
    role: Annotated[Role, typer.Option("--role", "-r", help="Workspace role")] = "launch",
    workspace: WorkspaceOpt = None,
) -> None:
    """Add an organization member or team to the workspace with a role."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = current_workspace(api, workspace)
        if kind == "team":
            added = api.add_participant(org_id, workspace_id, team_id=api.team_id(org_id, name))
        else:
            added = api.add_participant(org_id, workspace_id, user=name)
        if role != added["wspRole"]:
            api.set_participant_role(org_id, workspace_id, added["participantId"], role)
            added["wspRole"] = role
    done(st, f"{kind.capitalize()} '{name}' added as {role}.", added)


@app.command("list")
def list_participants(ctx: typer.Context, workspace: WorkspaceOpt = None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        items = api.list_participants(*current_workspace(api, workspace))
    for item in items:
        item["name"] = item.get("teamName") or item.get("userName")
    show(
        st,
        "Participants",
        ["Participant ID", "Type", "Name", "E-mail", "Role"],
        ["participantId", "type", "name", "email", "wspRole"],
        items,
    )


@app.command("delete")
def delete(
    ctx: typer.Context, name: Name, kind: Kind = "member", workspace: WorkspaceOpt = None
) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = current_workspace(api, workspace)
        participant = api.participant_id(org_id, workspace_id, name, kind.upper())
        api.delete_participant(org_id, workspace_id, participant)
    done(st, f"{kind.capitalize()} '{name}' removed from the workspace.")


@app.command("role")
def role(
    ctx: typer.Context,
    name: Name,
    new_role: Annotated[Role, typer.Argument(help="owner, admin, maintain, launch, connect, view")],
    kind: Kind = "member",
    workspace: WorkspaceOpt = None,
) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = current_workspace(api, workspace)
        participant = api.participant_id(org_id, workspace_id, name, kind.upper())
        api.set_participant_role(org_id, workspace_id, participant, new_role)
    done(st, f"{kind.capitalize()} '{name}' is now {new_role}.")


@app.command("leave")
def leave(ctx: typer.Context, workspace: WorkspaceOpt = None) -> None:
    """Stop being a direct participant of the workspace."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        api.leave_workspace(*current_workspace(api, workspace))
    done(st, "You left the workspace.")
