"""``batchforge secrets``: pipeline secrets (after ``tw secrets``).

A value is read from standard input when it is not a terminal, else from a hidden prompt
(asked twice) — never from the command line, where it would land in the shell history and in
``ps`` output.  Values are never shown.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from batchforge.cli.common import emit_json, emit_table, fail, say, state

app = typer.Typer(help="Pipeline secrets (values are write-only).", no_args_is_help=True)
Target = Annotated[str, typer.Argument(help="Secret name or id.")]
User = Annotated[
    bool,
    typer.Option("--user", help="Your own user secrets (they override workspace ones)."),
]


def read_value() -> str:
    """The secret value: all of stdin (one trailing newline dropped) or a hidden prompt."""
    if not sys.stdin.isatty():
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
    else:
        value = typer.prompt("Secret value", hide_input=True, confirmation_prompt=True)
    if not value:
        raise fail("No secret value: pipe it on standard input or type it at the prompt.")
    return value


def _find(client: Any, target: str, user: bool) -> Any:
    found = client.find_secret(target, user)
    if found is None:
        raise fail(f"No {'user' if user else 'workspace'} secret named or with id '{target}'.")
    return found


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Secret name (secrets.NAME).")],
    user: User = False,
) -> None:
    """Add a secret; its value comes from stdin or a hidden prompt."""
    st = state(ctx)
    value = read_value()
    with st.client() as client:
        secret_id = client.create_secret(name, value, user)
    if st.structured:
        emit_json({"secretId": secret_id})
        return
    say(f"Secret '{name}' added (id {secret_id}).")


@app.command("list")
def list_secrets(ctx: typer.Context, user: User = False) -> None:
    st = state(ctx)
    with st.client() as client:
        items = client.list_secrets(user)
    if st.structured:
        emit_json([s.model_dump(mode="json") for s in items])
        return
    rows = [(s.id, s.name, s.lastUpdated, s.lastUsed) for s in items]
    emit_table("Secrets", ["ID", "Name", "Last updated", "Last used"], rows)


@app.command("view")
def view(ctx: typer.Context, target: Target, user: User = False) -> None:
    st = state(ctx)
    with st.client() as client:
        secret = client.describe_secret(_find(client, target, user).id, user)
    if st.structured:
        emit_json(secret.model_dump(mode="json"))
        return
    rows = [
        ("ID", secret.id),
        ("Name", secret.name),
        ("Created", secret.dateCreated),
        ("Last updated", secret.lastUpdated),
        ("Last used", secret.lastUsed),
    ]
    emit_table(f"Secret {secret.name}", ["Field", "Value"], rows)


@app.command("update")
def update(ctx: typer.Context, target: Target, user: User = False) -> None:
    """Replace a secret's value (from stdin or a hidden prompt)."""
    st = state(ctx)
    value = read_value()
    with st.client() as client:
        secret = _find(client, target, user)
        client.update_secret(secret.id, value, user)
    say(f"Secret '{secret.name}' updated.")


@app.command("delete")
def delete(ctx: typer.Context, target: Target, user: User = False) -> None:
    st = state(ctx)
    with st.client() as client:
        secret = _find(client, target, user)
        client.delete_secret(secret.id, user)
    say(f"Secret '{secret.name}' deleted.")
