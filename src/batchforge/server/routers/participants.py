"""``/orgs/{orgId}/workspaces/{workspaceId}/participants`` (Seqera's paths)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from batchforge.schemas.accounts import (
    AddParticipantRequest,
    AddParticipantResponse,
    ListParticipantsResponse,
    UpdateParticipantRoleRequest,
)
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import participants as service

router = APIRouter(
    prefix="/orgs/{orgId}/workspaces/{workspaceId}/participants", tags=["workspaces"]
)


@router.get("", response_model=ListParticipantsResponse)
def list_participants(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, workspaceId: int
) -> ListParticipantsResponse:
    items = service.list_participants(ctx, principal, orgId, workspaceId)
    return ListParticipantsResponse(participants=items, totalSize=len(items))


@router.put("/add", response_model=AddParticipantResponse)
def add_participant(
    ctx: Ctx,
    principal: CurrentPrincipal,
    orgId: int,
    workspaceId: int,
    body: AddParticipantRequest,
) -> AddParticipantResponse:
    """Adds with the ``launch`` role (Seqera's default); change it with ``…/role``."""
    return AddParticipantResponse(
        participant=service.add_participant(ctx, principal, orgId, workspaceId, body)
    )


@router.delete("", status_code=204, response_class=Response)
def leave_workspace(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, workspaceId: int
) -> Response:
    service.leave_workspace(ctx, principal, orgId, workspaceId)
    return Response(status_code=204)


@router.delete("/{participantId}", status_code=204, response_class=Response)
def remove_participant(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, workspaceId: int, participantId: int
) -> Response:
    service.remove_participant(ctx, principal, orgId, workspaceId, participantId)
    return Response(status_code=204)


@router.put("/{participantId}/role", status_code=204, response_class=Response)
def set_participant_role(
    ctx: Ctx,
    principal: CurrentPrincipal,
    orgId: int,
    workspaceId: int,
    participantId: int,
    body: UpdateParticipantRoleRequest,
) -> Response:
    service.set_role(ctx, principal, orgId, workspaceId, participantId, body.role)
    return Response(status_code=204)
