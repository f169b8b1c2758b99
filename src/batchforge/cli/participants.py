"""``batchforge participants``: a workspace's participants — members, collaborators or teams —
and roles (predefined, or the organization's custom roles), as ``tw participants``
(``add|update|delete -n NAME -t MEMBER|COLLABORATOR|TEAM [-r ROLE] -w WORKSPACE``).  A user
added who is not a member of the organization becomes one of its collaborators (type
COLLABORATOR), whatever ``--type`` said, as on Seqera.

The workspace is ``-w`` (here or global: an id or ``Organization/Workspace``), else
``TOWER_WORKSPACE_ID``, else your default workspace.
"""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import fail, pick
from batchforge.cli.scope import current_workspace, show
from batchforge.cli.tw_infra import (
    Max,
    Offset,
    Overwrite,
    Page,
    WorkspaceOpt,
    emit,
    in_workspace,
    page,
    upper_choice,
)
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Workspace participants and their roles.", no_args_is_help=True)
NameArg = Annotated[
    str | None,
    typer.Argument(
        help="User name or e-mail, or a team name (--type team); or -n.", show_default=False
    ),
]
NameOpt = Annotated[
    str | None,
    typer.Option("--name", "-n", help="Team name, user name or e-mail.", show_default=False),
]
Kind = Annotated[str, typer.Option("--type", "-t", help="MEMBER, COLLABORATOR or TEAM (any case)")]
ROLES = ("owner", "admin", "maintain", "launch", "connect", "view")
TYPES = ("MEMBER", "TEAM", "COLLABORATOR")


def _kind(value: str) -> str:
    return upper_choice(value, "--type", TYPES)


ROLE_HELP = "Workspace role: " + ", ".join(ROLES) + " (any case), or a custom role's name"


def _role(value: str) -> str:
    """A predefined role (lower case) or a custom role's name, as given (the server checks
    that the organization has it)."""
    role = value.strip()
    if not role:
        raise fail("--role cannot be empty.", code=2)
    return role.lower() if role.lower() in ROLES else role


def _workspace_name(api: AccountsApi, workspace_id: int) -> tuple[str, str]:
    for entry in api.workspaces_of(int(api.me()["id"])):
        if entry.get("workspaceId") == workspace_id:
            return entry["orgName"], entry["workspaceName"]
    return "", str(workspace_id)


@app.command("add")
def add(
    ctx: typer.Context,
    name_arg: NameArg = None,
    name: NameOpt = None,
    kind: Kind = "member",
    role: Annotated[str, typer.Option("--role", "-r", help=ROLE_HELP)] = "launch",
    overwrite: Overwrite = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add an organization member, a collaborator (a user who is not a member) or a team to
    the workspace (role: launch, or --role)."""
    who, kind_, role_ = pick(name_arg, None, name, "participant"), _kind(kind), _role(role)
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = current_workspace(api, None)
        if overwrite:
            for item in api.list_participants(org_id, workspace_id):
                if item["type"] == kind_ and who in (
                    item.get("userName"),
                    item.get("email"),
                    item.get("teamName"),
                ):
                    api.delete_participant(org_id, workspace_id, int(item["participantId"]))
        if kind_ == "TEAM":
            added = api.add_participant(org_id, workspace_id, team_id=api.team_id(org_id, who))
        else:
            added = api.add_participant(org_id, workspace_id, user=who)
        if role_ != added["wspRole"]:
            api.set_participant_role(org_id, workspace_id, added["participantId"], role_)
            added["wspRole"] = role_
        _, ws_name = _workspace_name(api, workspace_id)
    emit(
        st,
        f"{str(added['type']).capitalize()} '{who}' was added as participant to "
        f"'{ws_name}' workspace with role '{role_}'.",
        {"participant": added, "workspaceName": ws_name},
    )


@app.command("list")
def list_participants(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    kind: Annotated[
        str | None,
        typer.Option("--type", "-t", help="Only MEMBER, COLLABORATOR or TEAM", show_default=False),
    ] = None,
    starts_with: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="Names starting with this", show_default=False),
    ] = None,
    max_: Max = None,
    page_: Page = None,
    offset: Offset = None,
) -> None:
    """The workspace's participants and their roles."""
    wanted = _kind(kind) if kind else None
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = current_workspace(api, None)
        items = api.list_participants(org_id, workspace_id)
        org_name, ws_name = _workspace_name(api, workspace_id)
    for item in items:
        item["name"] = item.get("teamName") or item.get("userName")
    prefix = (starts_with or "").lower()
    items = [
        item
        for item in items
        if (wanted is None or item["type"] == wanted)
        and (
            not prefix
            or any(
                str(item.get(key) or "").lower().startswith(prefix)
                for key in ("userName", "email", "teamName")
            )
        )
    ]
    items = page(items, max_, page_, offset)
    if st.structured:
        emit(
            st,
            "",
            {"organizationName": org_name, "workspaceName": ws_name, "participants": items},
        )
        return
    show(
        st,
        f"Participants of {org_name}/{ws_name}",
        ["Participant ID", "Type", "Name", "E-mail", "Role"],
        ["participantId", "type", "name", "email", "wspRole"],
        items,
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    name_arg: NameArg = None,
    name: NameOpt = None,
    kind: Kind = "member",
    workspace: WorkspaceOpt = None,
) -> None:
    """Remove a member or team from the workspace."""
    who, kind_ = pick(name_arg, None, name, "participant"), _kind(kind)
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = current_workspace(api, None)
        participant = api.participant_id(org_id, workspace_id, who, kind_)
        api.delete_participant(org_id, workspace_id, participant)
        _, ws_name = _workspace_name(api, workspace_id)
    emit(
        st,
        f"Participant '{who}' was removed from '{ws_name}' workspace.",
        {"name": who, "workspaceName": ws_name},
    )


def _set_role(ctx: typer.Context, who: str, kind: str, role: str, workspace: str | None) -> None:
    kind_, role_ = _kind(kind), _role(role)
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = current_workspace(api, None)
        participant = api.participant_id(org_id, workspace_id, who, kind_)
        api.set_participant_role(org_id, workspace_id, participant, role_)
        _, ws_name = _workspace_name(api, workspace_id)
    emit(
        st,
        f"Participant '{who}' has now role '{role_}' for workspace '{ws_name}'.",
        {"workspaceName": ws_name, "name": who, "role": role_},
    )


@app.command("update")
def update(
    ctx: typer.Context,
    name_arg: NameArg = None,
    name: NameOpt = None,
    kind: Kind = "member",
    role: Annotated[
        str | None,
        typer.Option("--role", "-r", help=ROLE_HELP, show_default=False),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Change a participant's role (tw's form of ``role``)."""
    if role is None:
        raise fail("Missing option '--role'.", code=2)
    _set_role(ctx, pick(name_arg, None, name, "participant"), kind, role, workspace)


@app.command("role")
def role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name or e-mail, or a team name.")],
    new_role: Annotated[str, typer.Argument(help=ROLE_HELP)],
    kind: Kind = "member",
    workspace: WorkspaceOpt = None,
) -> None:
    """Change a participant's role (batchforge's form of ``update``)."""
    _set_role(ctx, name, kind, new_role, workspace)


@app.command("leave")
def leave(ctx: typer.Context, workspace: WorkspaceOpt = None) -> None:
    """Stop being a direct participant of the workspace."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        api = AccountsApi(client)
        org_id, workspace_id = current_workspace(api, None)
        _, ws_name = _workspace_name(api, workspace_id)
        api.leave_workspace(org_id, workspace_id)
    emit(st, f"You left workspace '{ws_name}'.", {"workspaceName": ws_name})
