"""Request dependencies: the app context, the authenticated principal, the workspace."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from batchforge.errors import Forbidden, InvalidInput, Unauthorized
from batchforge.services import accounts, authz
from batchforge.services.context import AppContext, Principal
from batchforge.services.pipeline_secrets import Owner


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Ctx = Annotated[AppContext, Depends(get_ctx)]


BASIC_USER = "@token"


def request_token(request: Request) -> str | None:
    """The API token of a request: ``Authorization: Bearer <token>``, or
    ``Authorization: Basic base64("@token:<token>")`` — the form Nextflow's nf-tower plugin
    sends for tokens that are not JWTs (nf-tower ``TowerClient.setAuthToken``/
    ``setupClientAuth``; the OSS server's ``AuthenticationByApiToken``).  ``None`` when absent;
    :class:`Unauthorized` for a Basic header that is not of that form."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Authorization: Basic credentials are not valid base64.") from None
    user, sep, token = decoded.partition(":")
    if not sep or user != BASIC_USER or not token:
        raise Unauthorized(
            "Authorization: Basic must carry the user '@token' and an API token as password.",
            hint="Send 'Authorization: Bearer <token>' or Basic base64('@token:<token>').",
        )
    return token


def get_any_principal(request: Request, ctx: Ctx) -> Principal:
    """The caller, a run token included (only the trace receiver accepts those)."""
    return accounts.authenticate(ctx, request_token(request))


def get_principal(principal: Annotated[Principal, Depends(get_any_principal)]) -> Principal:
    """The caller of every route but ``/trace/*``: a run token is refused here."""
    if principal.run_id is not None:
        raise Forbidden(
            "A run token may only report its run's trace (/trace/{workflowId}/*).",
            hint="Use a personal API token for the rest of the API.",
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
AnyPrincipal = Annotated[Principal, Depends(get_any_principal)]


def get_workspace_id(
    principal: CurrentPrincipal,
    workspaceId: Annotated[int | None, Query(description="Workspace numeric identifier")] = None,
) -> int:
    """The workspace a request acts in, for a route needing only to see it (``workspace:read``:
    every participant).  Routes needing more declare ``authz.needs(permission)`` instead."""
    workspace_id = authz.acting_workspace(principal, workspaceId)
    authz.require(principal, workspace_id, authz.Permission.WORKSPACE_READ)
    return workspace_id


WorkspaceId = Annotated[int, Depends(get_workspace_id)]


def secret_owner(permission: authz.Permission) -> Callable[..., Owner]:
    """The dependency of a ``/pipeline-secrets`` route: Seqera's secret contexts.
    ``?workspaceId`` → that workspace's secrets, with ``permission`` there (:mod:`authz`);
    none → the caller's own user secrets (no workspace role involved)."""

    def authorised_owner(
        principal: CurrentPrincipal,
        workspaceId: authz.WorkspaceQuery = None,
    ) -> Owner:
        if workspaceId is None:
            return Owner(user_id=principal.user_id)
        authz.require(principal, workspaceId, permission)
        return Owner(workspace_id=workspaceId)

    authorised_owner.permission = permission  # type: ignore[attr-defined]
    return authorised_owner


def query_attributes(value: str | None, allowed: set[str]) -> set[str]:
    """Seqera's ``attributes`` query parameter (``attributes=labels,optimized``, one
    comma-separated value as ``tw`` sends it): the names given; a 400 naming
    ``attributes`` for one Seqera does not define for the route."""
    names = {part.strip() for part in (value or "").split(",") if part.strip()}
    unknown = sorted(names - allowed)
    if unknown:
        raise InvalidInput(
            f"attributes: unknown value '{unknown[0]}' (allowed: {', '.join(sorted(allowed))}).",
            field="attributes",
        )
    return names
