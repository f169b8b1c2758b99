"""``/tokens``: the caller's own personal API tokens (Seqera's access tokens).

Tokens belong to a user, not a workspace: every signed-in user manages their own, whatever
their workspace roles; a run token is refused (``CurrentPrincipal``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from batchforge.schemas.tokens import (
    CreateAccessTokenRequest,
    CreateAccessTokenResponse,
    ListAccessTokensResponse,
)
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import tokens as service

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=ListAccessTokensResponse)
def list_tokens(ctx: Ctx, principal: CurrentPrincipal) -> ListAccessTokensResponse:
    return ListAccessTokensResponse(tokens=service.list_tokens(ctx, principal.user_id))


@router.post("", response_model=CreateAccessTokenResponse)
def create_token(
    ctx: Ctx, principal: CurrentPrincipal, body: CreateAccessTokenRequest
) -> CreateAccessTokenResponse:
    return service.create(ctx, principal.user_id, body.name)


@router.delete("/delete-all", status_code=204, response_class=Response)
def delete_all_tokens(ctx: Ctx, principal: CurrentPrincipal) -> Response:
    service.delete_all(ctx, principal.user_id)
    return Response(status_code=204)


@router.delete("/{tokenId}", status_code=204, response_class=Response)
def delete_token(ctx: Ctx, principal: CurrentPrincipal, tokenId: int) -> Response:
    service.delete_token(ctx, principal.user_id, tokenId)
    return Response(status_code=204)
