"""Pipeline secrets as the UI offers them: whose (the workspace's or the user's own), and
their names for the launch form.  Values are write-only: nothing here reads one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from batchforge.services import authz, pipeline_secrets
from batchforge.services.authz import Permission
from batchforge.services.context import AppContext
from batchforge.services.pipeline_secrets import Owner

if TYPE_CHECKING:
    from batchforge.web.core import Viewer

SCOPES = ("workspace", "user")


def owner_for(
    viewer: Viewer, scope: str, permission: Permission = Permission.PIPELINE_SECRETS_READ
) -> Owner:
    """The secrets' owner: the viewer's workspace (where the viewer needs ``permission``,
    :mod:`batchforge.services.authz`), or the viewer (``scope == "user"``, no role involved)."""
    if scope == "user":
        return Owner(user_id=viewer.principal.user_id)
    authz.require(viewer.principal, viewer.workspace_id, permission)
    return Owner(workspace_id=viewer.workspace_id)


def secret_choices(ctx: AppContext, viewer: Viewer) -> dict[str, list[str]]:
    """The names of the workspace's and the viewer's own secrets."""
    return {
        scope: [s.name for s in pipeline_secrets.list_secrets(ctx, owner_for(viewer, scope))]
        for scope in SCOPES
    }
