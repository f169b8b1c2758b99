"""Where an accounts command acts: the organization (``--org``) and the workspace (``-w``).

Without ``--org``, the organization of the current workspace (``-w``, ``TOWER_WORKSPACE_ID``,
else the user's default workspace) is used.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from batchforge.cli.common import State, emit_json, emit_table, say
from batchforge.client.accounts import AccountsApi

Org = Annotated[
    str | None,
    typer.Option("--org", help="Organization name (default: the current workspace's)"),
]
WorkspaceOpt = Annotated[
    str | None,
    typer.Option("--workspace", "-w", help="Workspace id or Organization/Workspace"),
]


def current_workspace(api: AccountsApi, ref: str | None) -> tuple[int, int]:
    """``(org id, workspace id)`` of ``ref`` (an id or ``Org/Workspace``) or, without one, of
    the client's workspace or the user's default workspace."""
    if ref:
        return api.workspace_ref(ref)
    workspace_id = api.client.workspace_id
    if workspace_id is None:
        workspace_id = api.client.user_info().defaultWorkspaceId
    if workspace_id is None:
        from batchforge.errors import InvalidInput

        raise InvalidInput("You are in no workspace; give -w Organization/Workspace.")
    return api.workspace_ref(str(workspace_id))


def org_of(api: AccountsApi, org: str | None) -> int:
    """The id of organization ``org`` (a name or id), or of the current workspace's."""
    if org:
        return api.org_id(org)
    return current_workspace(api, None)[0]


def show(st: State, title: str, columns: list[str], keys: list[str], items: list[Any]) -> None:
    """``items`` (JSON objects) as JSON or as a table of ``keys``."""
    if st.structured:
        emit_json(items)
        return
    emit_table(title, columns, [[item.get(key) for key in keys] for item in items])


def done(st: State, message: str, data: Any = None) -> None:
    if st.structured:
        emit_json(data if data is not None else {"message": message})
        return
    say(message)
