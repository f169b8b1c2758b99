"""``batchforge users``: the system administrator's users (add shows the first token once)."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import emit_json, say, state
from batchforge.cli.scope import done, show
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Users (the system administrator's).", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="User name.")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Name,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address")] = None,
) -> None:
    """Add a user; its first API token is printed this once."""
    st = state(ctx)
    with st.client() as client:
        made = AccountsApi(client).add_user(name, email)
    if st.structured:
        emit_json(made)
        return
    say(f"User '{name}' added (id {made['user']['id']}).")
    say(f"API token (shown once): {made['token']}")


@app.command("list")
def list_users(ctx: typer.Context) -> None:
    st = state(ctx)
    with st.client() as client:
        items = AccountsApi(client).list_users()
    show(
        st,
        "Users",
        ["ID", "Name", "E-mail", "Admin", "Disabled"],
        ["id", "userName", "email", "isAdmin", "disabled"],
        items,
    )


def _set_disabled(ctx: typer.Context, name: str, disabled: bool) -> None:
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        api.set_user_disabled(api.user_id(name), disabled)
    done(st, f"User '{name}' {'disabled' if disabled else 'enabled'}.")


@app.command("disable")
def disable(ctx: typer.Context, name: Name) -> None:
    """Disable a user: its tokens are refused until enabled again."""
    _set_disabled(ctx, name, True)


@app.command("enable")
def enable(ctx: typer.Context, name: Name) -> None:
    _set_disabled(ctx, name, False)


@app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete a user with its tokens and memberships."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        api.delete_user(api.user_id(name))
    done(st, f"User '{name}' deleted.")
