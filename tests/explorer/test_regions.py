"""Buckets in other regions: their region is found once (ListBuckets' BucketRegion or
GetBucketLocation), stored, and every object call goes to a client of that region.

The emulator serves every bucket from any region, so the tests check the region of the
client each call was made with (the recorder notes it), as real S3 would require."""

from __future__ import annotations

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.local_aws import LocalAws
from batchforge.schemas.data_links import DataLinkCreateRequest
from batchforge.services.context import AppContext
from tests.explorer.conftest import make_bucket


def _regions(ctx: AppContext, mark: int) -> set[tuple[str, str]]:
    return {(call.name, call.region) for call in ctx.recorder.since(mark)}


def test_object_calls_use_the_buckets_region(
    api: BatchforgeClient, local_aws: LocalAws, credentials_id: str, app_ctx: AppContext
) -> None:
    bucket = make_bucket(local_aws, "ap-southeast-2")
    local_aws.boto_client("s3", "ap-southeast-2").put_object(Bucket=bucket, Key="k.txt", Body=b"1")
    mark = app_ctx.recorder.count()
    link = next(x for x in api.list_data_links().dataLinks if x.name == bucket)
    assert link.region == "ap-southeast-2"
    assert ("s3:ListBuckets", "us-east-1") in _regions(app_ctx, mark)

    mark = app_ctx.recorder.count()
    api.browse_data_link(link.id)
    api.preview_data_link_file(link.id, "k.txt")
    api.request("GET", f"/data-links/{link.id}/download/k.txt")
    url = api.data_link_download_url(link.id, "k.txt").url
    assert _regions(app_ctx, mark) == {
        ("s3:ListObjectsV2", "ap-southeast-2"),
        ("s3:GetObject", "ap-southeast-2"),
        ("s3:HeadObject", "ap-southeast-2"),
    }
    assert "ap-southeast-2" in url  # signed for the bucket's region


def test_custom_link_finds_its_region_and_an_unknown_region_is_found_on_use(
    api: BatchforgeClient, local_aws: LocalAws, credentials_id: str, app_ctx: AppContext
) -> None:
    bucket = make_bucket(local_aws, "eu-central-1")
    mark = app_ctx.recorder.count()
    body = DataLinkCreateRequest(
        name="eu", resourceRef=f"s3://{bucket}", credentialsId=credentials_id
    )
    link = api.create_data_link(body)
    assert link.region == "eu-central-1"
    assert ("s3:ListObjectsV2", "eu-central-1") in _regions(app_ctx, mark)

    with app_ctx.db.transaction() as session:  # as after a discovery that could not tell
        session.get(models.DataLink, link.id).region = None  # type: ignore[union-attr]
    mark = app_ctx.recorder.count()
    api.browse_data_link(link.id)
    assert [c.name for c in app_ctx.recorder.since(mark)] == [
        "s3:GetBucketLocation",
        "s3:ListObjectsV2",
    ]
    assert api.describe_data_link(link.id).region == "eu-central-1"
    mark = app_ctx.recorder.count()
    api.browse_data_link(link.id)
    assert [c.name for c in app_ctx.recorder.since(mark)] == ["s3:ListObjectsV2"]
