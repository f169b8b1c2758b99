"""``/orgs/{orgId}/teams``: an organization's teams and their members (Seqera's paths)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from batchforge.schemas.accounts import (
    AddMemberResponse,
    CreateTeamMemberRequest,
    CreateTeamRequest,
    ListMembersResponse,
    ListTeamResponse,
    NameQuery,
    TeamResponse,
    UpdateTeamRequest,
)
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import teams as service

router = APIRouter(prefix="/orgs/{orgId}/teams", tags=["teams"])


@router.get("", response_model=ListTeamResponse)
def list_teams(ctx: Ctx, principal: CurrentPrincipal, orgId: int) -> ListTeamResponse:
    items = service.list_teams(ctx, principal, orgId)
    return ListTeamResponse(teams=items, totalSize=len(items))


@router.post("", response_model=TeamResponse)
def create_team(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, body: CreateTeamRequest
) -> TeamResponse:
    return TeamResponse(
        team=service.create_team(ctx, principal, orgId, body.team.name, body.team.description)
    )


@router.get("/validate", status_code=204, response_class=Response)
def validate_team_name(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, name: NameQuery
) -> Response:
    service.validate_name(ctx, principal, orgId, name)
    return Response(status_code=204)


@router.get("/{teamId}", response_model=TeamResponse)
def describe_team(ctx: Ctx, principal: CurrentPrincipal, orgId: int, teamId: int) -> TeamResponse:
    return TeamResponse(team=service.describe_team(ctx, principal, orgId, teamId))


@router.put("/{teamId}", status_code=204, response_class=Response)
def update_team(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, teamId: int, body: UpdateTeamRequest
) -> Response:
    service.update_team(ctx, principal, orgId, teamId, body)
    return Response(status_code=204)


@router.delete("/{teamId}", status_code=204, response_class=Response)
def delete_team(ctx: Ctx, principal: CurrentPrincipal, orgId: int, teamId: int) -> Response:
    service.delete_team(ctx, principal, orgId, teamId)
    return Response(status_code=204)


@router.get("/{teamId}/members", response_model=ListMembersResponse)
def list_team_members(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, teamId: int
) -> ListMembersResponse:
    items = service.list_team_members(ctx, principal, orgId, teamId)
    return ListMembersResponse(members=items, totalSize=len(items))


@router.post("/{teamId}/members", response_model=AddMemberResponse)
def add_team_member(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, teamId: int, body: CreateTeamMemberRequest
) -> AddMemberResponse:
    return AddMemberResponse(
        member=service.add_team_member(ctx, principal, orgId, teamId, body.userNameOrEmail)
    )


@router.delete("/{teamId}/members/{memberId}/delete", status_code=204, response_class=Response)
def remove_team_member(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, teamId: int, memberId: int
) -> Response:
    service.remove_team_member(ctx, principal, orgId, teamId, memberId)
    return Response(status_code=204)
