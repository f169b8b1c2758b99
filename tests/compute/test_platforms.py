"""/platforms: drop-down data for a region and credentials."""

from __future__ import annotations

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services import platforms
from batchforge.services.context import AppContext
from tests.compute.conftest import Network


def test_platforms_and_regions(api: BatchforgeClient) -> None:
    listed = api.request("GET", "/platforms").json()["platforms"]
    assert [p["id"] for p in listed] == ["aws-batch"]
    regions = [
        r["id"] for r in api.request("GET", "/platforms/aws-batch/regions").json()["regions"]
    ]
    assert "us-east-1" in regions and "eu-west-1" in regions


def test_describe_lists_the_accounts_resources_and_caches(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    network: Network,
    credentials_id: str,
) -> None:
    platforms._cache.clear()
    params = {"regionId": "us-east-1", "credentialsId": credentials_id}
    mark = app_ctx.recorder.count()
    info = api.request("GET", "/platforms/aws-batch", params=params).json()["metainfo"]
    calls = app_ctx.recorder.count() - mark
    assert {"id": network.vpc, "isDefault": True} in info["vpcs"]
    assert {s["id"] for s in info["subnets"]} >= set(network.subnets)
    assert network.security_group in {g["id"] for g in info["securityGroups"]}
    assert f"s3://{WORK_BUCKET}" in {b["path"] for b in info["buckets"]}
    assert "m5" in info["instanceFamilies"]
    assert any(
        i["description"].endswith("amazon-linux-2023/recommended/image_id") for i in info["images"]
    )
    assert "SPOT_PRICE_CAPACITY_OPTIMIZED" in info["allocStrategy"]
    assert info["warnings"] == []
    api.request("GET", "/platforms/aws-batch", params=params)
    assert app_ctx.recorder.count() - mark == calls  # the second answer came from the cache


def test_describe_needs_credentials_and_region(api: BatchforgeClient) -> None:
    with pytest.raises(ApiError) as caught:
        api.request("GET", "/platforms/aws-batch", params={"regionId": "us-east-1"})
    assert (caught.value.status, caught.value.field) == (400, "credentialsId")
    with pytest.raises(ApiError) as caught:
        api.request("GET", "/platforms/google-batch")
    assert caught.value.status == 404
