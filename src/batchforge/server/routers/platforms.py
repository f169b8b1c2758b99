"""``/platforms``: the AWS Batch platform, its regions and drop-down data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from batchforge.errors import NotFound
from batchforge.schemas.platforms import (
    DescribePlatformResponse,
    ListPlatformsResponse,
    ListRegionsResponse,
)
from batchforge.server.deps import Ctx
from batchforge.services import platforms as service
from batchforge.services.authz import Permission, needs

router = APIRouter(prefix="/platforms", tags=["platforms"])

CanRead = Annotated[int, Depends(needs(Permission.PLATFORM_READ))]


def _check(platform_id: str) -> None:
    if platform_id != "aws-batch":
        raise NotFound(f"Platform '{platform_id}' is not supported; use 'aws-batch'.")


@router.get("", response_model=ListPlatformsResponse)
def list_platforms(workspace_id: CanRead) -> ListPlatformsResponse:
    return ListPlatformsResponse(platforms=service.PLATFORMS)


@router.get("/{platformId}/regions", response_model=ListRegionsResponse)
def list_regions(platformId: str, workspace_id: CanRead) -> ListRegionsResponse:
    _check(platformId)
    return ListRegionsResponse(regions=service.regions())


@router.get("/{platformId}", response_model=DescribePlatformResponse)
def describe_platform(
    ctx: Ctx,
    workspace_id: CanRead,
    platformId: str,
    regionId: str | None = None,
    credentialsId: str | None = None,
) -> DescribePlatformResponse:
    _check(platformId)
    return DescribePlatformResponse(
        metainfo=service.describe(ctx, workspace_id, credentialsId, regionId)
    )
