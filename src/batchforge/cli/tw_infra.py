"""``tw``-compatible plumbing shared by the infrastructure commands (compute-envs, credentials,
workspaces, participants, members, orgs, teams).

Seqera's ``tw`` puts ``-w/--workspace`` on each subcommand, takes ``--wait=STATUS`` on
``compute-envs add``, comma-separated lists, ``-e compute:NAME=VALUE`` and the like; the
helpers here give batchforge's commands the same options with the same meaning.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from batchforge.cli.common import State, emit_json, fail, say, state, warn

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient

WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace id or Organization/Workspace [env: TOWER_WORKSPACE_ID] (default: yours)",
        show_default=False,
    ),
]
IdOpt = Annotated[str | None, typer.Option("--id", "-i", help="Identifier.", show_default=False)]
NameOpt = Annotated[str | None, typer.Option("--name", "-n", help="Name.", show_default=False)]
OrgOpt = Annotated[
    str | None,
    typer.Option(
        "--organization",
        "--org",
        "-o",
        help="Organization name or id (default: the current workspace's)",
        show_default=False,
    ),
]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Delete an existing one of that name first.")
]
Max = Annotated[int | None, typer.Option("--max", help="At most this many rows.")]
Page = Annotated[int | None, typer.Option("--page", help="Page number (from 1) of --max rows.")]
Offset = Annotated[int | None, typer.Option("--offset", help="Rows to skip.")]

# Seqera's ComputeEnv.Status, in tw's order: --wait=S succeeds once the status reaches S's
# position (tw's waitStatus).
CE_STATUSES = ("CREATING", "AVAILABLE", "DISABLED", "DELETING", "ERRORED", "INVALID", "DELETED")


def in_workspace(ctx: typer.Context, workspace: str | None) -> State:
    """The global state, with the subcommand's ``-w`` (as ``tw`` places it) taking precedence
    over a global ``-w``."""
    st = state(ctx)
    if workspace and workspace.strip():
        st.workspace = workspace.strip()
    return st


def csv(values: Sequence[str] | None) -> list[str]:
    """``a,b`` given once or repeated, as a flat list (``tw`` splits on commas)."""
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def upper_choice(value: str, option: str, choices: Sequence[str]) -> str:
    """``value`` upper-cased when it is one of ``choices`` (``tw`` accepts any case)."""
    upper = value.strip().upper()
    if upper not in choices:
        raise fail(f"{option} must be one of {', '.join(choices)}, got '{value}'.", code=2)
    return upper


def page(items: list[Any], max_: int | None, page_: int | None, offset: int | None) -> list[Any]:
    """``tw``'s ``--max`` (default 100)/``--page``/``--offset`` applied to a fetched list."""
    if page_ is not None and offset is not None:
        raise fail("Please use either --page or --offset as pagination parameter.")
    if offset is not None and offset < 0:
        raise fail("Record offset number must be a positive value.")
    if page_ is not None and page_ < 1:
        raise fail("Page number must be greater than zero.")
    if max_ is not None and max_ < 0:
        raise fail("--max must be 0 or more.")
    size = 100 if max_ is None else max_
    start = (page_ - 1) * size if page_ is not None else (offset or 0)
    return items[start : start + size]


def secret_on_command_line(option: str, instead: str) -> None:
    """Warn that a secret given as ``option`` is kept in the shell's history."""
    warn(
        f"{option} puts the secret on the command line, where shell history and the process "
        f"list keep it. Accepted for tw compatibility; prefer {instead}."
    )


class WaitStatusCommand(TyperCommand):
    """A command whose ``--wait`` takes a status (``--wait=AVAILABLE`` or ``--wait AVAILABLE``,
    as ``tw``) or, alone, means AVAILABLE (batchforge's flag)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        fixed: list[str] = []
        rest = list(args)
        while rest:
            arg = rest.pop(0)
            if arg == "--":
                fixed += [arg, *rest]
                break
            if arg == "--wait":
                if rest and rest[0].upper() in CE_STATUSES:
                    arg = f"--wait={rest.pop(0)}"
                else:
                    arg = "--wait=AVAILABLE"
            fixed.append(arg)
        return super().parse_args(ctx, fixed)


def wait_status_value(value: str | None) -> str | None:
    """The ``--wait`` status, upper-cased and checked."""
    return None if value is None else upper_choice(value, "--wait", CE_STATUSES)


def wait_for_status(
    st: State,
    client: BatchforgeClient,
    ce_id: str,
    target: str,
    end_states: Sequence[str],
    timeout: float = 3600,
) -> int:
    """Poll environment ``ce_id`` as ``tw`` does: until its status reaches ``target`` (in
    :data:`CE_STATUSES` order) or one of ``end_states``.  Returns 0 when ``target`` was
    reached, else 1 (tw's exit codes).  An environment that is gone counts as DELETED.  Shows
    each forged resource as it changes unless the output is JSON/YAML."""
    from batchforge.client import ApiError

    show = not st.structured
    position = {status: index for index, status in enumerate(CE_STATUSES)}
    goal = position[target]
    seen: dict[str, str] = {}
    status = message = None
    deadline = time.monotonic() + timeout
    interval = 0.5
    if show:
        say(f"  Waiting {target} status...")
    while True:
        try:
            env = client.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
        except ApiError as error:
            if error.status != 404:
                raise
            env = {"status": "DELETED", "message": None, "config": {}}
        for resource in (env.get("config") or {}).get("forgedResources") or []:
            if not isinstance(resource, dict) or "type" not in resource:
                continue
            key = f"{resource['type']} {resource.get('name', '')}"
            if show and seen.get(key) != resource.get("status"):
                seen[key] = resource.get("status")
                say(f"  {resource.get('status', ''):<9} {key}")
        if env.get("status") != status:
            status, message = env.get("status"), env.get("message")
            if show:
                say(f"  status {status}" + (f": {message}" if message else ""))
        current = position.get(str(status), len(CE_STATUSES))
        if current >= goal or status in end_states:
            break
        if time.monotonic() > deadline:
            raise fail(f"Gave up waiting for {target} after {timeout:.0f} s (status {status}).")
        time.sleep(interval)
        interval = min(interval + 0.5, 10.0)
    if current == goal:
        if show:
            say("  [DONE]")
        return 0
    typer.echo(
        f"Error: compute environment {ce_id} is {status}, not {target}"
        + (f": {message}" if message else "."),
        err=True,
    )
    return 1


def env_variables(values: Sequence[str] | None) -> list[dict[str, Any]]:
    """``-e NAME=VALUE`` as Seqera's ``environment`` list: the head job only by default,
    ``compute:NAME`` the tasks only, ``both:NAME`` both, ``head:NAME`` the head job (tw)."""
    entries: dict[str, dict[str, Any]] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"-e/--env takes NAME=VALUE, got '{item}'.", code=2)
        head, compute, name = True, False, key
        for prefix, where in (("compute:", (False, True)), ("head:", (True, False))):
            if key.startswith(prefix):
                name, (head, compute) = key[len(prefix) :], where
        if key.startswith("both:"):
            name, head, compute = key[5:], True, True
        if not name:
            raise fail(f"-e/--env: no variable name in '{item}'.", code=2)
        entries[key] = {"name": name, "value": value, "head": head, "compute": compute}
    return list(entries.values())


def read_text_option(path: str | None, option: str) -> str | None:
    """The content of the file an option names (``tw``'s ``--pre-run FILE``)."""
    if path is None:
        return None
    from pathlib import Path

    try:
        return Path(path).read_text()
    except OSError as error:
        raise fail(f"{option}: cannot read '{path}': {error.strerror or error}.") from None


def emit(st: State, message: str, data: Any) -> None:
    """``data`` for ``-o json|yaml``, else ``message``."""
    if st.structured:
        emit_json(data)
    else:
        say(message)


def label_pairs(values: Sequence[str] | None) -> list[tuple[str, str]]:
    """``--labels a=1,b=2``: resource labels, each NAME=VALUE (tw requires the value)."""
    pairs = []
    for item in csv(values):
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip() or "=" in value:
            raise fail(f"--labels takes NAME=VALUE items, got '{item}'.", code=2)
        pairs.append((name.strip(), value.strip()))
    return pairs


def workspace_ref_text(client: BatchforgeClient) -> str:
    """``[org / workspace]`` of the client's workspace, or ``user`` (tw's workspaceRef)."""
    if client.workspace_id is None:
        return "user"
    from batchforge.client.accounts import AccountsApi
    from batchforge.errors import BatchforgeError

    api = AccountsApi(client)
    try:
        for entry in api.workspaces_of(int(api.me()["id"])):
            if entry.get("workspaceId") == client.workspace_id:
                return f"[{entry['orgName']} / {entry['workspaceName']}]"
    except BatchforgeError:  # a display nicety only
        pass
    return str(client.workspace_id)


class FallbackGroup(TyperGroup):
    """A group that runs its hidden ``fallback`` command when the first argument names none of
    its subcommands: ``tw``'s ``credentials update aws -n X`` and batchforge's older
    ``credentials update X --name Y`` side by side.  With ``options_too`` a leading option
    (``-n X``) also goes to the fallback; without it leading options belong to the group."""

    fallback = "_default"
    options_too = True

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        first = args[0] if args else None
        if (
            first is not None
            and first not in self.commands
            and first not in ("--help", "-h")
            and (self.options_too or not first.startswith("-"))
        ):
            args = [self.fallback, *args]
        return super().parse_args(ctx, args)


class OptionsFirstFallbackGroup(FallbackGroup):
    """:class:`FallbackGroup` whose leading options are the group's own."""

    options_too = False
