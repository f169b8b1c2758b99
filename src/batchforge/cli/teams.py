"""``batchforge teams``: an organization's teams and their members."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import state
from batchforge.cli.scope import Org, done, org_of, show
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Teams of an organization.", no_args_is_help=True)
Team = Annotated[str, typer.Argument(help="Team name.")]
User = Annotated[str, typer.Argument(help="User name or e-mail (a member of the org).")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Team,
    org: Org = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        team = api.add_team(org_of(api, org), name, description)
    done(st, f"Team '{name}' added (id {team['teamId']}).", team)


@app.command("list")
def list_teams(ctx: typer.Context, org: Org = None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        items = api.list_teams(org_of(api, org))
    show(
        st,
        "Teams",
        ["Team ID", "Name", "Description", "Members"],
        ["teamId", "name", "description", "membersCount"],
        items,
    )


@app.command("delete")
def delete(ctx: typer.Context, name: Team, org: Org = None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        api.delete_team(org_id, api.team_id(org_id, name))
    done(st, f"Team '{name}' deleted.")


@app.command("members")
def members(ctx: typer.Context, name: Team, org: Org = None) -> None:
    """List a team's members."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        items = api.list_team_members(org_id, api.team_id(org_id, name))
    show(
        st,
        f"Team {name}",
        ["Member ID", "User", "E-mail"],
        ["memberId", "userName", "email"],
        items,
    )


@app.command("add-member")
def add_member(ctx: typer.Context, name: Team, user: User, org: Org = None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        member = api.add_team_member(org_id, api.team_id(org_id, name), user)
    done(st, f"'{user}' added to team '{name}'.", member)


@app.command("delete-member")
def delete_member(ctx: typer.Context, name: Team, user: User, org: Org = None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        api.delete_team_member(org_id, api.team_id(org_id, name), api.member_id(org_id, user))
    done(st, f"'{user}' removed from team '{name}'.")
