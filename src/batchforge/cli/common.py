"""Shared CLI plumbing: global state, the API client, output and error display."""

from __future__ import annotations

import enum
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient

DEFAULT_URL = "http://127.0.0.1:8000"


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


@dataclass
class State:
    """Global options, resolved lazily against the environment."""

    url: str | None
    token: str | None
    workspace: str | None
    output: OutputFormat

    def resolved_url(self) -> str:
        return (
            self.url
            or os.environ.get("BATCHFORGE_URL")
            or os.environ.get("TOWER_API_ENDPOINT")
            or DEFAULT_URL
        )

    def resolved_token(self) -> str | None:
        token = (
            self.token or os.environ.get("BATCHFORGE_TOKEN") or os.environ.get("TOWER_ACCESS_TOKEN")
        )
        if token:
            return token
        # A server on this machine saved its admin token in its data dir: use it.
        from batchforge.settings import Settings

        token_file = Settings().data_dir / "admin-token"
        if token_file.is_file():
            return token_file.read_text().strip() or None
        return None

    def workspace_ref(self) -> str | None:
        """``-w``: a workspace id or ``Organization/Workspace``; else ``TOWER_WORKSPACE_ID``
        (Seqera's ``tw``) or ``BATCHFORGE_WORKSPACE``; None: the user's default workspace."""
        ref = (
            self.workspace
            or os.environ.get("BATCHFORGE_WORKSPACE")
            or os.environ.get("TOWER_WORKSPACE_ID")
        )
        return ref.strip() if ref and ref.strip() else None

    @contextmanager
    def client(self) -> Iterator[BatchforgeClient]:
        """The API client, in the ``-w`` workspace (an ``Org/Workspace`` name is looked up);
        a BatchforgeError inside the block prints message and hint and exits 1."""
        from batchforge.client import BatchforgeClient
        from batchforge.errors import BatchforgeError

        ref = self.workspace_ref()
        workspace_id = int(ref) if ref and ref.isdigit() else None
        client = BatchforgeClient(self.resolved_url(), self.resolved_token(), workspace_id)
        try:
            if ref and workspace_id is None:
                from batchforge.client.accounts import AccountsApi

                client.workspace_id = AccountsApi(client).workspace_ref(ref)[1]
            yield client
        except BatchforgeError as error:
            raise fail(error.message, error.hint) from None
        finally:
            client.close()


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):  # a sub-app invoked on its own (tests)
        root.obj = State(None, None, None, OutputFormat.table)
    return root.obj


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if value is None else str(value) for value in row])
    # In a pipe there is no terminal width to respect: never cut ids or ARNs short.
    console = Console() if sys.stdout.isatty() else Console(width=250)
    console.print(table)


def say(message: str) -> None:
    typer.echo(message)


def fail(message: str, hint: str | None = None, code: int = 1) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    if hint:
        typer.echo(f"Hint: {hint}", err=True)
    return typer.Exit(code)


def read_secret_file(path: Path) -> str:
    return path.read_text().strip()


def run_app(app: typer.Typer) -> int:
    """Run ``app``; a BatchforgeError prints message and hint and exits 1, no traceback.

    Usage errors, ``--help`` and explicit exits are handled by click (SystemExit).
    """
    from batchforge.errors import BatchforgeError

    try:
        app()
    except BatchforgeError as error:
        typer.echo(f"Error: {error.message}", err=True)
        if error.hint:
            typer.echo(f"Hint: {error.hint}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def stdin_text() -> str:
    return sys.stdin.read()
