"""``batchforge orgs``: organizations (after ``tw organizations``)."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import state
from batchforge.cli.scope import done, show
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Organizations.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="Organization name.")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Name,
    full_name: Annotated[str, typer.Option("--full-name", "-f", help="Full name")] = "",
) -> None:
    """Create an organization; you become its owner."""
    st = state(ctx)
    with st.client() as client:
        org = AccountsApi(client).add_org(name, full_name)
    done(st, f"Organization '{name}' added (id {org['orgId']}).", org)


@app.command("list")
def list_orgs(ctx: typer.Context) -> None:
    st = state(ctx)
    with st.client() as client:
        items = AccountsApi(client).list_orgs()
    show(
        st,
        "Organizations",
        ["ID", "Name", "Full name", "Your role"],
        ["orgId", "name", "fullName", "memberRole"],
        items,
    )


@app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete an organization (it must have no workspace left)."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        api.delete_org(api.org_id(name))
    done(st, f"Organization '{name}' deleted.")
