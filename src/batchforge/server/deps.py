"""Request dependencies: the app context, the authenticated principal, the workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from batchforge.services import accounts
from batchforge.services.context import AppContext, Principal
from batchforge.services.pipeline_secrets import Owner


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Ctx = Annotated[AppContext, Depends(get_ctx)]


def get_principal(request: Request, ctx: Ctx) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return accounts.authenticate(ctx, token.strip() or None)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_workspace_id(
    principal: CurrentPrincipal,
    workspaceId: Annotated[int | None, Query(description="Workspace numeric identifier")] = None,
) -> int:
    return accounts.resolve_workspace(principal, workspaceId)


WorkspaceId = Annotated[int, Depends(get_workspace_id)]


def get_secret_owner(
    principal: CurrentPrincipal,
    workspaceId: Annotated[int | None, Query(description="Workspace numeric identifier")] = None,
) -> Owner:
    """Seqera's secret contexts: ``?workspaceId`` → that workspace's secrets (members only);
    none → the caller's own user secrets."""
    if workspaceId is None:
        return Owner(user_id=principal.user_id)
    return Owner(workspace_id=accounts.resolve_workspace(principal, workspaceId))


SecretOwner = Annotated[Owner, Depends(get_secret_owner)]
