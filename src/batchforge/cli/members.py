"""``batchforge members``: an organization's members and their role (owner | member)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from batchforge.cli.common import state
from batchforge.cli.scope import Org, done, org_of, show
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Organization members.", no_args_is_help=True)
User = Annotated[str, typer.Argument(help="User name or e-mail.")]


@app.command("add")
def add(ctx: typer.Context, user: User, org: Org = None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        member = api.add_member(org_of(api, org), user)
    done(st, f"'{user}' is now a member (id {member['memberId']}).", member)


@app.command("list")
def list_members(ctx: typer.Context, org: Org = None) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        items = api.list_members(org_of(api, org))
    show(
        st,
        "Members",
        ["Member ID", "User", "E-mail", "Role"],
        ["memberId", "userName", "email", "role"],
        items,
    )


@app.command("delete")
def delete(ctx: typer.Context, user: User, org: Org = None) -> None:
    """Remove a member (with its team memberships and workspace participations)."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        api.delete_member(org_id, api.member_id(org_id, user))
    done(st, f"'{user}' removed from the organization.")


@app.command("role")
def role(
    ctx: typer.Context,
    user: User,
    new_role: Annotated[Literal["owner", "member"], typer.Argument(help="owner or member")],
    org: Org = None,
) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        api.set_member_role(org_id, api.member_id(org_id, user), new_role)
    done(st, f"'{user}' is now {new_role} of the organization.")
