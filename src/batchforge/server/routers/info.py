"""``/service-info`` and ``/user-info``."""

from __future__ import annotations

from fastapi import APIRouter

from batchforge import __version__
from batchforge.schemas.common import (
    DescribeUserResponse,
    ServiceInfo,
    ServiceInfoResponse,
    UserResponseDto,
)
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import accounts

router = APIRouter(tags=["service-info"])

# The Seqera API version whose paths and fields we follow: at least what the current ``tw``
# requires (tower-cli's VERSION-API; ``tw info`` warns for an older one).
API_VERSION = "1.198.0"


@router.get("/service-info", response_model=ServiceInfoResponse)
def service_info(ctx: Ctx) -> ServiceInfoResponse:
    return ServiceInfoResponse(
        serviceInfo=ServiceInfo(
            version=__version__,
            apiVersion=API_VERSION,
            forgePrefix=ctx.settings.forge_prefix,
            awsMode=ctx.settings.aws_mode,
            awsEndpoint=ctx.aws.endpoint_url,
        )
    )


@router.get("/user-info", response_model=DescribeUserResponse, tags=["users"])
def user_info(ctx: Ctx, principal: CurrentPrincipal) -> DescribeUserResponse:
    user = accounts.describe_user(ctx, principal)
    return DescribeUserResponse(
        user=UserResponseDto(
            id=user.id,
            userName=user.user_name,
            email=user.email,
            dateCreated=user.created_at,
            lastAccess=user.last_access,
        ),
        defaultWorkspaceId=principal.default_workspace_id,
    )
