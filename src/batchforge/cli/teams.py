"""``batchforge teams``: an organization's teams and their members, as ``tw teams``
(``add -n NAME -o ORG``, ``delete -i ID -o ORG``, ``members -t TEAM -o ORG [add|delete -m
USER]``); batchforge's positional forms (``members TEAM``, ``add-member TEAM USER``) remain."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import pick, state
from batchforge.cli.scope import org_of, show
from batchforge.cli.tw_infra import (
    IdOpt,
    Max,
    NameOpt,
    Offset,
    OptionsFirstFallbackGroup,
    OrgOpt,
    Overwrite,
    Page,
    emit,
    page,
)
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Teams of an organization.", no_args_is_help=True)
members_app = typer.Typer(
    cls=OptionsFirstFallbackGroup,
    help="A team's members: members -t TEAM -o ORG [add|delete -m USER] (or members TEAM).",
)
app.add_typer(members_app, name="members")
TeamArg = Annotated[str | None, typer.Argument(help="Team name (or -n).", show_default=False)]
Team = Annotated[str, typer.Argument(help="Team name.")]
User = Annotated[str, typer.Argument(help="User name or e-mail (a member of the org).")]
Member = Annotated[str, typer.Option("--member", "-m", help="User name or e-mail.")]


def _org_name(api: AccountsApi, org_id: int) -> str:
    return str(api.describe_org(org_id)["name"])


@app.command("add")
def add(
    ctx: typer.Context,
    name_arg: TeamArg = None,
    name: NameOpt = None,
    org: OrgOpt = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    overwrite: Overwrite = False,
) -> None:
    """Create a team."""
    chosen = pick(name_arg, None, name, "team")
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        if overwrite:
            for team in api.list_teams(org_id):
                if team["name"] == chosen:
                    api.delete_team(org_id, int(team["teamId"]))
        team = api.add_team(org_id, chosen, description)
        org_name = _org_name(api, org_id)
    emit(
        st,
        f"Team '{chosen}' (id {team['teamId']}) added to '{org_name}' organization.",
        {"organizationName": org_name, "teamName": chosen, "team": team},
    )


@app.command("list")
def list_teams(
    ctx: typer.Context,
    org: OrgOpt = None,
    max_: Max = None,
    page_: Page = None,
    offset: Offset = None,
) -> None:
    """The organization's teams."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        items = page(api.list_teams(org_id), max_, page_, offset)
        org_name = _org_name(api, org_id) if st.structured else ""
    if st.structured:
        emit(st, "", {"organizationName": org_name, "teams": items})
        return
    show(
        st,
        "Teams",
        ["Team ID", "Name", "Description", "Members"],
        ["teamId", "name", "description", "membersCount"],
        items,
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    name_arg: TeamArg = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    org: OrgOpt = None,
) -> None:
    """Delete a team (its members stay in the organization)."""
    ref = pick(name_arg, id_, name, "team")
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        team_id = api.team_id(org_id, ref)
        api.delete_team(org_id, team_id)
        org_name = _org_name(api, org_id)
    emit(
        st,
        f"Team '{ref}' deleted from '{org_name}' organization.",
        {"organizationName": org_name, "teamId": str(team_id)},
    )


def _list_members(ctx: typer.Context, team: str, org: str | None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        items = api.list_team_members(org_id, api.team_id(org_id, team))
    if st.structured:
        emit(st, "", {"teamName": team, "members": items})
        return
    show(
        st,
        f"Team {team}",
        ["Member ID", "User", "E-mail"],
        ["memberId", "userName", "email"],
        items,
    )


@members_app.callback(invoke_without_command=True)
def members(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", "-t", show_default=False)] = None,
    org: OrgOpt = None,
) -> None:
    """List a team's members (-t TEAM), or add/delete one."""
    if ctx.invoked_subcommand is None:
        _list_members(ctx, pick(None, None, team, "team (-t)"), org)


def _parent(ctx: typer.Context) -> tuple[str, str | None]:
    params = ctx.parent.params if ctx.parent else {}
    return pick(None, None, params.get("team"), "team (-t)"), params.get("org")


def _add_member(ctx: typer.Context, team: str, user: str, org: str | None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        member = api.add_team_member(org_id, api.team_id(org_id, team), user)
    emit(st, f"'{user}' added to team '{team}'.", {"teamName": team, "member": member})


def _delete_member(ctx: typer.Context, team: str, user: str, org: str | None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        api.delete_team_member(org_id, api.team_id(org_id, team), api.member_id(org_id, user))
    emit(st, f"'{user}' removed from team '{team}'.", {"teamName": team, "username": user})


@members_app.command("add")
def members_add(ctx: typer.Context, member: Member) -> None:
    """Add an organization member to the team (-t)."""
    team, org = _parent(ctx)
    _add_member(ctx, team, member, org)


@members_app.command("delete")
def members_delete(ctx: typer.Context, member: Member) -> None:
    """Remove a member from the team (-t)."""
    team, org = _parent(ctx)
    _delete_member(ctx, team, member, org)


@members_app.command("_default", hidden=True)
def members_by_name(ctx: typer.Context, name: Team, org: OrgOpt = None) -> None:
    """batchforge's form: members TEAM [--org ORG]."""
    _list_members(ctx, name, org or _parent_org(ctx))


def _parent_org(ctx: typer.Context) -> str | None:
    return ctx.parent.params.get("org") if ctx.parent else None


@app.command("add-member")
def add_member(ctx: typer.Context, name: Team, user: User, org: OrgOpt = None) -> None:
    """Add an organization member to a team."""
    _add_member(ctx, name, user, org)


@app.command("delete-member")
def delete_member(ctx: typer.Context, name: Team, user: User, org: OrgOpt = None) -> None:
    """Remove a member from a team."""
    _delete_member(ctx, name, user, org)
