"""``batchforge orgs`` (also ``organizations``, ``tw``'s name): organizations, as ``tw
organizations`` (``add -n NAME -f FULL``, ``view|update|delete -i ID|-n NAME``); the positional
name is batchforge's alias."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import pick, state
from batchforge.cli.scope import show
from batchforge.cli.tw_infra import IdOpt, NameOpt, Overwrite, emit
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Organizations.", no_args_is_help=True)
NameArg = Annotated[
    str | None, typer.Argument(help="Organization name or id (or -i/-n).", show_default=False)
]
Description = Annotated[str | None, typer.Option("--description", "-d", show_default=False)]
Location = Annotated[str | None, typer.Option("--location", "-l", show_default=False)]
Website = Annotated[str | None, typer.Option("--website", "-w", show_default=False)]


@app.command("add")
def add(
    ctx: typer.Context,
    name_arg: NameArg = None,
    name: NameOpt = None,
    full_name: Annotated[str, typer.Option("--full-name", "-f", help="Full name")] = "",
    description: Description = None,
    location: Location = None,
    website: Website = None,
    overwrite: Overwrite = False,
) -> None:
    """Create an organization; you become its owner."""
    chosen = pick(name_arg, None, name, "organization")
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        if overwrite:
            for org in api.list_orgs():
                if org["name"] == chosen:
                    api.delete_org(int(org["orgId"]))
        org = api.add_org(
            chosen, full_name, description=description, location=location, website=website
        )
    emit(st, f"Organization '{chosen}' with ID '{org['orgId']}' was added.", org)


@app.command("list")
def list_orgs(ctx: typer.Context) -> None:
    """Your organizations, with your role in each."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        items = api.list_orgs()
        user_name = api.me()["userName"] if st.structured else ""
    if st.structured:
        entries = [
            {**org, "orgName": org["name"], "workspaceId": None, "workspaceName": None}
            for org in items
        ]
        emit(st, "", {"userName": user_name, "organizations": entries})
        return
    show(
        st,
        "Organizations",
        ["ID", "Name", "Full name", "Your role"],
        ["orgId", "name", "fullName", "memberRole"],
        items,
    )


def _org_id(api: AccountsApi, name_arg: str | None, id_: str | None, name: str | None) -> int:
    return api.org_id(pick(name_arg, id_, name, "organization"))


@app.command("view")
def view(
    ctx: typer.Context, name_arg: NameArg = None, id_: IdOpt = None, name: NameOpt = None
) -> None:
    """An organization's details."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org = api.describe_org(_org_id(api, name_arg, id_, name))
    if st.structured:
        emit(st, "", org)
        return
    for key, value in org.items():
        typer.echo(f"{key:>12}: {'' if value is None else value}")


@app.command("update")
def update(
    ctx: typer.Context,
    name_arg: NameArg = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    new_name: Annotated[str | None, typer.Option("--new-name", help="New name.")] = None,
    full_name: Annotated[str | None, typer.Option("--full-name", "-f")] = None,
    description: Description = None,
    location: Location = None,
    website: Website = None,
) -> None:
    """Rename an organization or change its details."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = _org_id(api, name_arg, id_, name)
        current = api.describe_org(org_id)
        api.update_org(
            org_id,
            name=new_name or current["name"],
            fullName=full_name if full_name is not None else current.get("fullName"),
            description=description,
            location=location,
            website=website,
        )
    emit(
        st,
        f"Organization '{current['name']}' updated.",
        {"orgId": org_id, "name": new_name or current["name"]},
    )


@app.command("delete")
def delete(
    ctx: typer.Context, name_arg: NameArg = None, id_: IdOpt = None, name: NameOpt = None
) -> None:
    """Delete an organization (it must have no workspace left)."""
    st = state(ctx)
    ref = pick(name_arg, id_, name, "organization")
    with st.client() as client:
        api = AccountsApi(client)
        api.delete_org(api.org_id(ref))
    emit(st, f"Organization '{ref}' deleted.", {"ref": ref})
