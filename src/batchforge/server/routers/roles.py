"""``/roles``: an organization's custom workspace roles, with the predefined ones listed
(Seqera's paths and shapes; ``services/roles.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from batchforge.schemas.roles import (
    CreateRoleRequest,
    CreateRoleResponse,
    DescribeRoleResponse,
    ListRolePermissionsResponse,
    ListRolesResponse,
    UpdateRoleRequest,
)
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import roles as service

router = APIRouter(prefix="/roles", tags=["roles"])

OrgQuery = Annotated[int, Query(description="Numeric identifier of the organization")]


@router.get("", response_model=ListRolesResponse)
def list_roles(
    ctx: Ctx,
    principal: CurrentPrincipal,
    orgId: OrgQuery,
    max: int | None = None,
    offset: int | None = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    type: Annotated[str | None, Query(description="predefined or custom")] = None,
) -> ListRolesResponse:
    """The predefined roles and the organization's custom ones (members of the org)."""
    found, total = service.list_roles(
        ctx, principal, orgId, max_=max, offset=offset, name=name, type_=type
    )
    return ListRolesResponse(roles=found, totalSize=total)


@router.post("", status_code=201, response_model=CreateRoleResponse)
def create_role(
    ctx: Ctx, principal: CurrentPrincipal, orgId: OrgQuery, body: CreateRoleRequest
) -> CreateRoleResponse:
    """A custom role (organization owners); 409 when the name is taken."""
    return service.create_role(ctx, principal, orgId, body)


@router.get("/permissions", response_model=ListRolePermissionsResponse)
def list_role_permissions(
    ctx: Ctx, principal: CurrentPrincipal, orgId: OrgQuery
) -> ListRolePermissionsResponse:
    """Every permission name a custom role may hold."""
    return ListRolePermissionsResponse(permissions=service.list_permissions(ctx, principal, orgId))


@router.get("/validate", status_code=204, response_class=Response)
def validate_role_name(
    ctx: Ctx,
    principal: CurrentPrincipal,
    orgId: OrgQuery,
    name: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """204 when ``name`` is a valid, free role name in the organization; 409 when taken."""
    service.validate_name(ctx, principal, orgId, name)
    return Response(status_code=204)


@router.get("/{roleName}", response_model=DescribeRoleResponse)
def describe_role(
    ctx: Ctx, principal: CurrentPrincipal, roleName: str, orgId: OrgQuery
) -> DescribeRoleResponse:
    return DescribeRoleResponse(role=service.describe_role(ctx, principal, orgId, roleName))


@router.put("/{roleName}", status_code=204, response_class=Response)
def update_role(
    ctx: Ctx,
    principal: CurrentPrincipal,
    roleName: str,
    orgId: OrgQuery,
    body: UpdateRoleRequest,
) -> Response:
    """Change a custom role (organization owners); it applies from the next request."""
    service.update_role(ctx, principal, orgId, roleName, body)
    return Response(status_code=204)


@router.delete("/{roleName}", status_code=204, response_class=Response)
def delete_role(ctx: Ctx, principal: CurrentPrincipal, roleName: str, orgId: OrgQuery) -> Response:
    """Delete a custom role no participant holds (409 naming those that do)."""
    service.delete_role(ctx, principal, orgId, roleName)
    return Response(status_code=204)
