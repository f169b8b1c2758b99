"""Seqera's ``/roles`` shapes (custom workspace roles of an organization), field for field."""

from __future__ import annotations

from pydantic import Field

from batchforge.schemas.common import ApiModel


class CreateRoleRequest(ApiModel):
    """``POST /roles?orgId=``: a custom role's name, description and permission names."""

    name: str | None = None
    description: str = Field(min_length=1, max_length=120)
    permissions: list[str] = []


class UpdateRoleRequest(CreateRoleRequest):
    """``PUT /roles/{roleName}?orgId=``: ``name`` renames it (optional)."""


class CreateRoleResponse(ApiModel):
    name: str
    description: str
    permissions: list[str]


class RoleInfo(ApiModel):
    """Seqera's ``ListRolesResponse.RoleInfo``."""

    name: str
    description: str
    isPredefined: bool


class ListRolesResponse(ApiModel):
    roles: list[RoleInfo]
    totalSize: int


class RoleDto(ApiModel):
    name: str
    description: str
    isPredefined: bool
    permissions: list[str]


class DescribeRoleResponse(ApiModel):
    role: RoleDto


class RolePermissionResponseDto(ApiModel):
    """A permission (``pipeline:read``) and its category (the resource: ``pipeline``)."""

    name: str
    category: str


class ListRolePermissionsResponse(ApiModel):
    permissions: list[RolePermissionResponseDto]
