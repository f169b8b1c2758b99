"""``/orgs``: organizations, their members and their workspaces (Seqera's paths)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from batchforge.schemas.accounts import (
    AddMemberRequest,
    AddMemberResponse,
    CreateOrganizationRequest,
    CreateWorkspaceRequest,
    ListMembersResponse,
    ListOrganizationsResponse,
    ListWorkspacesResponse,
    NameQuery,
    OrganizationResponse,
    UpdateMemberRoleRequest,
    UpdateOrganizationRequest,
    UpdateWorkspaceRequest,
    WorkspaceResponse,
)
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import orgs as service
from batchforge.services import workspaces

router = APIRouter(prefix="/orgs", tags=["orgs"])

Search = Annotated[str | None, Query(max_length=100)]


def _no_content() -> Response:
    return Response(status_code=204)


@router.get("", response_model=ListOrganizationsResponse)
def list_orgs(ctx: Ctx, principal: CurrentPrincipal) -> ListOrganizationsResponse:
    items = service.list_orgs(ctx, principal)
    return ListOrganizationsResponse(organizations=items, totalSize=len(items))


@router.post("", response_model=OrganizationResponse)
def create_org(
    ctx: Ctx, principal: CurrentPrincipal, body: CreateOrganizationRequest
) -> OrganizationResponse:
    org = body.organization
    return OrganizationResponse(
        organization=service.create_org(ctx, principal, org.name, org.fullName)
    )


@router.get("/validate", status_code=204, response_class=Response)
def validate_org_name(ctx: Ctx, principal: CurrentPrincipal, name: NameQuery) -> Response:
    """204 when ``name`` is free for a new organization; 409 when taken."""
    service.validate_name(ctx, name)
    return _no_content()


@router.get("/{orgId}", response_model=OrganizationResponse)
def describe_org(ctx: Ctx, principal: CurrentPrincipal, orgId: int) -> OrganizationResponse:
    return OrganizationResponse(organization=service.describe_org(ctx, principal, orgId))


@router.put("/{orgId}", status_code=204, response_class=Response)
def update_org(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, body: UpdateOrganizationRequest
) -> Response:
    service.update_org(ctx, principal, orgId, body)
    return _no_content()


@router.delete("/{orgId}", status_code=204, response_class=Response)
def delete_org(ctx: Ctx, principal: CurrentPrincipal, orgId: int) -> Response:
    service.delete_org(ctx, principal, orgId)
    return _no_content()


@router.get("/{orgId}/members", response_model=ListMembersResponse)
def list_members(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, search: Search = None
) -> ListMembersResponse:
    items = service.list_members(ctx, principal, orgId, search)
    return ListMembersResponse(members=items, totalSize=len(items))


@router.get("/{orgId}/collaborators", response_model=ListMembersResponse)
def list_collaborators(
    ctx: Ctx,
    principal: CurrentPrincipal,
    orgId: int,
    search: Search = None,
    max: int | None = None,
    offset: int = 0,
) -> ListMembersResponse:
    """Seqera's ListOrganizationCollaborators: users participating in some of the
    organization's workspaces without being members (role ``collaborator``)."""
    items = service.list_members(ctx, principal, orgId, search, collaborators=True)
    shown = items[offset:] if max is None else items[offset : offset + max]
    return ListMembersResponse(members=shown, totalSize=len(items))


@router.put("/{orgId}/members/add", response_model=AddMemberResponse)
def add_member(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, body: AddMemberRequest
) -> AddMemberResponse:
    return AddMemberResponse(member=service.add_member(ctx, principal, orgId, body.user))


@router.delete("/{orgId}/members/leave", status_code=204, response_class=Response)
def leave_org(ctx: Ctx, principal: CurrentPrincipal, orgId: int) -> Response:
    service.leave_org(ctx, principal, orgId)
    return _no_content()


@router.delete("/{orgId}/members/{memberId}", status_code=204, response_class=Response)
def remove_member(ctx: Ctx, principal: CurrentPrincipal, orgId: int, memberId: int) -> Response:
    service.remove_member(ctx, principal, orgId, memberId)
    return _no_content()


@router.put("/{orgId}/members/{memberId}/role", status_code=204, response_class=Response)
def set_member_role(
    ctx: Ctx,
    principal: CurrentPrincipal,
    orgId: int,
    memberId: int,
    body: UpdateMemberRoleRequest,
) -> Response:
    service.set_member_role(ctx, principal, orgId, memberId, body.role)
    return _no_content()


@router.get("/{orgId}/workspaces", response_model=ListWorkspacesResponse)
def list_workspaces(ctx: Ctx, principal: CurrentPrincipal, orgId: int) -> ListWorkspacesResponse:
    return ListWorkspacesResponse(workspaces=workspaces.list_workspaces(ctx, principal, orgId))


@router.post("/{orgId}/workspaces", response_model=WorkspaceResponse)
def create_workspace(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, body: CreateWorkspaceRequest
) -> WorkspaceResponse:
    wanted = body.workspace
    return WorkspaceResponse(
        workspace=workspaces.create_workspace(
            ctx, principal, orgId, wanted.name, wanted.fullName, wanted.visibility
        )
    )


@router.get("/{orgId}/workspaces/validate", status_code=204, response_class=Response)
def validate_workspace_name(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, name: NameQuery
) -> Response:
    workspaces.validate_name(ctx, principal, orgId, name)
    return _no_content()


@router.get("/{orgId}/workspaces/{workspaceId}", response_model=WorkspaceResponse)
def describe_workspace(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, workspaceId: int
) -> WorkspaceResponse:
    return WorkspaceResponse(
        workspace=workspaces.describe_workspace(ctx, principal, orgId, workspaceId)
    )


@router.put("/{orgId}/workspaces/{workspaceId}", response_model=WorkspaceResponse)
def update_workspace(
    ctx: Ctx,
    principal: CurrentPrincipal,
    orgId: int,
    workspaceId: int,
    body: UpdateWorkspaceRequest,
) -> WorkspaceResponse:
    return WorkspaceResponse(
        workspace=workspaces.update_workspace(ctx, principal, orgId, workspaceId, body)
    )


@router.delete("/{orgId}/workspaces/{workspaceId}", status_code=204, response_class=Response)
def delete_workspace(
    ctx: Ctx, principal: CurrentPrincipal, orgId: int, workspaceId: int
) -> Response:
    workspaces.delete_workspace(ctx, principal, orgId, workspaceId)
    return _no_content()
