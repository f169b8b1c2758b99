"""``batchforge secrets``: pipeline secrets, with ``tw secrets``' subcommands and options.

The value is best read from standard input (``-v -``, or no ``-v`` with a pipe) or a hidden
prompt (asked twice).  ``-v VALUE`` is accepted as ``tw`` takes it, with a warning: the value
lands in the shell history and in ``ps`` output.  Values are never shown.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from batchforge.cli.common import emit_json, emit_table, fail, pick, say, warn
from batchforge.cli.launch_opts import WorkspaceOpt, scoped

app = typer.Typer(help="Pipeline secrets (values are write-only).", no_args_is_help=True)
Target = Annotated[str | None, typer.Argument(help="Secret name or id.", show_default=False)]
SecretId = Annotated[str | None, typer.Option("--id", "-i", help="Secret id.")]
SecretName = Annotated[str | None, typer.Option("--name", "-n", help="Secret name.")]
Value = Annotated[
    str | None,
    typer.Option(
        "--value",
        "-v",
        help="'-' reads the value from standard input (preferred). A value given here lands "
        "in the shell history (accepted as tw, with a warning).",
    ),
]
User = Annotated[
    bool,
    typer.Option("--user", help="Your own user secrets (they override workspace ones)."),
]


def read_value(given: str | None = None) -> str:
    """The secret value: ``-v VALUE`` (warned about), else all of stdin (one trailing newline
    dropped; ``-v -`` or a pipe), else a hidden prompt."""
    if given is not None and given != "-":
        warn(
            "a secret given with -v/--value lands in your shell history and in `ps` output; "
            "pipe it instead: ... | batchforge secrets add -n NAME -v -"
        )
        value = given
    elif given == "-" or not sys.stdin.isatty():
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
    else:
        value = typer.prompt("Secret value", hide_input=True, confirmation_prompt=True)
    if not value:
        raise fail("No secret value: pipe it on standard input (-v -) or type it at the prompt.")
    return value


def _find(client: Any, target: str, user: bool) -> Any:
    found = client.find_secret(target, user)
    if found is None:
        raise fail(f"No {'user' if user else 'workspace'} secret named or with id '{target}'.")
    return found


def _select(client: Any, target: str | None, id_: str | None, name: str | None, user: bool) -> Any:
    """The secret named by a positional NAME_OR_ID, ``-i ID`` or ``-n NAME``."""
    ref = pick(target, id_, name, "secret")
    if id_ is not None:
        found = next((s for s in client.list_secrets(user) if str(s.id) == id_), None)
        if found is None:
            raise fail(f"No {'user' if user else 'workspace'} secret with id '{id_}'.")
        return found
    if name is not None:
        found = next((s for s in client.list_secrets(user) if s.name == name), None)
        if found is None:
            raise fail(f"No {'user' if user else 'workspace'} secret named '{name}'.")
        return found
    return _find(client, ref, user)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Secret name (secrets.NAME).")],
    value: Value = None,
    workspace: WorkspaceOpt = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a secret of that name.")
    ] = False,
    user: User = False,
) -> None:
    """Add a secret; its value from -v - / stdin, a hidden prompt, or -v VALUE."""
    st = scoped(ctx, workspace)
    secret_value = read_value(value)
    with st.client() as client:
        if overwrite:
            existing = client.find_secret(name, user)
            if existing is not None and existing.name == name:
                client.delete_secret(existing.id, user)
        secret_id = client.create_secret(name, secret_value, user)
    if st.structured:
        emit_json({"secretId": secret_id, "name": name})
        return
    say(f"Secret '{name}' added (id {secret_id}).")


@app.command("list")
def list_secrets(ctx: typer.Context, workspace: WorkspaceOpt = None, user: User = False) -> None:
    st = scoped(ctx, workspace)
    with st.client() as client:
        items = client.list_secrets(user)
    if st.structured:
        emit_json([s.model_dump(mode="json") for s in items])
        return
    rows = [(s.id, s.name, s.lastUpdated, s.lastUsed) for s in items]
    emit_table("Secrets", ["ID", "Name", "Last updated", "Last used"], rows)


@app.command("view")
def view(
    ctx: typer.Context,
    target: Target = None,
    id_: SecretId = None,
    name: SecretName = None,
    workspace: WorkspaceOpt = None,
    user: User = False,
) -> None:
    st = scoped(ctx, workspace)
    with st.client() as client:
        secret = client.describe_secret(_select(client, target, id_, name, user).id, user)
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
def update(
    ctx: typer.Context,
    target: Target = None,
    id_: SecretId = None,
    name: SecretName = None,
    value: Value = None,
    workspace: WorkspaceOpt = None,
    user: User = False,
) -> None:
    """Replace a secret's value (from -v - / stdin, a hidden prompt, or -v VALUE)."""
    st = scoped(ctx, workspace)
    pick(target, id_, name, "secret")
    secret_value = read_value(value)
    with st.client() as client:
        secret = _select(client, target, id_, name, user)
        client.update_secret(secret.id, secret_value, user)
    if st.structured:
        emit_json({"secretId": secret.id, "name": secret.name})
        return
    say(f"Secret '{secret.name}' updated.")


@app.command("delete")
def delete(
    ctx: typer.Context,
    target: Target = None,
    id_: SecretId = None,
    name: SecretName = None,
    workspace: WorkspaceOpt = None,
    user: User = False,
) -> None:
    st = scoped(ctx, workspace)
    with st.client() as client:
        secret = _select(client, target, id_, name, user)
        client.delete_secret(secret.id, user)
    if st.structured:
        emit_json({"secretId": secret.id, "name": secret.name, "deleted": True})
        return
    say(f"Secret '{secret.name}' deleted.")
