"""``/users`` (the administrator's user management) and ``/user/{userId}/workspaces``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from batchforge.schemas.accounts import (
    CreateUserRequest,
    CreateUserResponse,
    ListUsersResponse,
    ListWorkspacesAndOrgResponse,
    NameQuery,
    UpdateUserStateRequest,
)
from batchforge.schemas.common import DescribeUserResponse
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import users as service
from batchforge.services import workspaces

router = APIRouter(tags=["users"])


@router.get("/users", response_model=ListUsersResponse)
def list_users(ctx: Ctx, principal: CurrentPrincipal) -> ListUsersResponse:
    items = service.list_users(ctx, principal)
    return ListUsersResponse(users=items, totalSize=len(items))


@router.post("/users", response_model=CreateUserResponse)
def create_user(
    ctx: Ctx, principal: CurrentPrincipal, body: CreateUserRequest
) -> CreateUserResponse:
    """batchforge's own: the administrator adds a user; the token is shown this once."""
    user, token = service.create_user(ctx, principal, body.userName, body.email)
    return CreateUserResponse(user=user, token=token)


@router.get("/users/validate", status_code=204, response_class=Response)
def validate_user_name(ctx: Ctx, principal: CurrentPrincipal, name: NameQuery) -> Response:
    """204 when ``name`` is free for a new user; 409 when taken."""
    service.validate_name(ctx, name)
    return Response(status_code=204)


@router.get("/users/{userId}", response_model=DescribeUserResponse)
def describe_user(ctx: Ctx, principal: CurrentPrincipal, userId: int) -> DescribeUserResponse:
    return DescribeUserResponse(user=service.describe_user(ctx, principal, userId))


@router.put("/users/{userId}/state", status_code=204, response_class=Response)
def set_user_state(
    ctx: Ctx, principal: CurrentPrincipal, userId: int, body: UpdateUserStateRequest
) -> Response:
    """batchforge's own: disable (its tokens are refused) or enable a user."""
    service.set_disabled(ctx, principal, userId, body.disabled)
    return Response(status_code=204)


@router.delete("/users/{userId}", status_code=204, response_class=Response)
def delete_user(ctx: Ctx, principal: CurrentPrincipal, userId: int) -> Response:
    service.delete_user(ctx, principal, userId)
    return Response(status_code=204)


@router.get("/user/{userId}/workspaces", response_model=ListWorkspacesAndOrgResponse)
def user_workspaces(
    ctx: Ctx, principal: CurrentPrincipal, userId: int
) -> ListWorkspacesAndOrgResponse:
    return ListWorkspacesAndOrgResponse(
        orgsAndWorkspaces=workspaces.user_workspaces(ctx, principal, userId)
    )
