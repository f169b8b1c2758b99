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
    """``-o``: a table for people (``console`` is ``tw``'s name for it), or data."""

    table = "table"
    console = "console"
    json = "json"
    yaml = "yaml"

    @property
    def structured(self) -> bool:
        """Data (JSON or YAML) rather than a table."""
        return self in (OutputFormat.json, OutputFormat.yaml)


@dataclass
class State:
    """Global options, resolved lazily against the environment."""

    url: str | None
    token: str | None
    workspace: str | None
    output: OutputFormat

    @property
    def structured(self) -> bool:
        """``-o json`` or ``-o yaml``: print data (see :func:`emit_json`), not a table."""
        return self.output.structured

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


def _current_output() -> OutputFormat | None:
    try:  # typer >= 0.24 runs its own copy of click
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - older typer on the real click
        from click import get_current_context

    ctx = get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return root.obj.output if root is not None and isinstance(root.obj, State) else None


def emit_json(data: Any, output: OutputFormat | None = None) -> None:
    """Print ``data`` as ``output`` (default: the global ``-o``) asks: YAML for ``yaml``,
    else JSON."""
    if (output or _current_output()) is OutputFormat.yaml:
        import yaml

        # Through JSON first so dates, enums and the like print as JSON would show them.
        plain = json.loads(json.dumps(data, default=str))
        typer.echo(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True), nl=False)
        return
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


def pick(target: str | None, id_: str | None, name: str | None, what: str) -> str:
    """The one resource a command acts on, as ``tw`` names it (``-i ID`` or ``-n NAME``) or
    as batchforge does (a positional name or id).  Exactly one of the three must be given;
    the result is looked up by name or id as before."""
    given = [value for value in (target, id_, name) if value]
    if len(given) != 1:
        raise fail(
            f"Name the {what} once: a positional NAME_OR_ID, -i ID or -n NAME.",
            "tw's -i/-n selectors and batchforge's positional argument mean the same thing.",
            code=2,
        )
    return given[0]


def warn(message: str) -> None:
    """A warning on stderr (never mixed into -o json/yaml output)."""
    typer.echo(f"Warning: {message}", err=True)


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
