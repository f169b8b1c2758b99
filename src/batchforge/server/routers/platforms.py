"""``/platforms``: the AWS Batch platform, its regions and drop-down data."""

from __future__ import annotations

from fastapi import APIRouter

from batchforge.errors import NotFound
from batchforge.schemas.platforms import (
    DescribePlatformResponse,
    ListPlatformsResponse,
    ListRegionsResponse,
)
from batchforge.server.deps import Ctx, WorkspaceId
from batchforge.services import platforms as service

router = APIRouter(prefix="/platforms", tags=["platforms"])


def _check(platform_id: str) -> None:
    if platform_id != "aws-batch":
        raise NotFound(f"Platform '{platform_id}' is not supported; use 'aws-batch'.")


@router.get("", response_model=ListPlatformsResponse)
def list_platforms(workspace_id: WorkspaceId) -> ListPlatformsResponse:
    return ListPlatformsResponse(platforms=service.PLATFORMS)


@router.get("/{platformId}/regions", response_model=ListRegionsResponse)
def list_regions(platformId: str, workspace_id: WorkspaceId) -> ListRegionsResponse:
    _check(platformId)
    return ListRegionsResponse(regions=service.regions())


@router.get("/{platformId}", response_model=DescribePlatformResponse)
def describe_platform(
    ctx: Ctx,
    workspace_id: WorkspaceId,
    platformId: str,
    regionId: str | None = None,
    credentialsId: str | None = None,
) -> DescribePlatformResponse:
    _check(platformId)
    return DescribePlatformResponse(
        metainfo=service.describe(ctx, workspace_id, credentialsId, regionId)
    )
