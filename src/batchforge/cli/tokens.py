"""``batchforge tokens``: your personal API tokens (Seqera's access tokens).

A new token is printed once, by ``add``; the server keeps only its hash, so it cannot be
shown again.  ``list`` shows names, creation and last use, never values.
"""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import emit_json, emit_table, fail, say, state

app = typer.Typer(help="Your personal API tokens.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Token name (letters, digits, -_).")],
) -> None:
    """Create a token and print it (this once: store it now)."""
    st = state(ctx)
    with st.client() as client:
        created = client.create_token(name)
    if st.structured:
        emit_json(created.model_dump(mode="json"))
        return
    say(f"Token '{created.token.name}' created (id {created.token.id}). It is shown only once:")
    say(created.accessKey)


@app.command("list")
def list_tokens(ctx: typer.Context) -> None:
    """Your tokens: id, name, created, last used."""
    st = state(ctx)
    with st.client() as client:
        items = client.list_tokens()
    if st.structured:
        emit_json([t.model_dump(mode="json") for t in items])
        return
    rows = [(t.id, t.name, t.dateCreated, t.lastUsed or "never") for t in items]
    emit_table("Tokens", ["ID", "Name", "Created", "Last used"], rows)


@app.command("delete")
def delete(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Argument(help="Token name or id.")] = None,
    all_tokens: Annotated[
        bool, typer.Option("--all", help="Delete every token of yours, this one included.")
    ] = False,
) -> None:
    """Delete one token (by name or id), or all of them with --all."""
    st = state(ctx)
    if all_tokens == (target is not None):
        raise fail("Give a token name or id, or --all (not both).")
    with st.client() as client:
        if all_tokens:
            client.delete_all_tokens()
            say("All your tokens are deleted; sign in again with a new one.")
            return
        assert target is not None
        found = client.find_token(target)
        if found is None or found.id is None:
            raise fail(f"You have no token named or with id '{target}'.")
        client.delete_token(found.id)
    say(f"Token '{found.name}' deleted.")
