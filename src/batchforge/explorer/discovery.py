"""Buckets visible to credentials, and bucket regions.

``ListBuckets`` (``s3:ListAllMyBuckets``) names the buckets; when AWS includes each bucket's
region in the answer (it does when the request carries a parameter, here ``MaxBuckets``) no
other call is made; otherwise ``GetBucketLocation`` is asked for the missing ones, a few at a
time.  Listing buckets is optional in the seed policy: without it, links are added by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from batchforge.aws.s3 import region_of_location
from batchforge.aws.session import AwsClient
from batchforge.errors import AwsError
from batchforge.explorer.permissions import explain

LOCATION_WORKERS = 8


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str | None


def bucket_region(s3: AwsClient, bucket: str) -> str:
    """The region of ``bucket`` (``GetBucketLocation``; any region's client can ask)."""
    try:
        answer = s3.get_bucket_location(Bucket=bucket)
    except AwsError as error:
        raise explain(error, bucket) from None
    return region_of_location(answer.get("LocationConstraint"))


def list_buckets(s3: AwsClient) -> list[Bucket]:
    """Every bucket the credentials can list, with its region where AWS tells it."""
    buckets: list[Bucket] = []
    try:
        for page in s3.paginate("list_buckets", MaxBuckets=1000):
            for item in page.get("Buckets", []):
                buckets.append(Bucket(item["Name"], item.get("BucketRegion") or None))
    except AwsError as error:
        if error.aws_code in ("AccessDenied", "AllAccessDisabled"):
            error.hint = (
                "Allow s3:ListAllMyBuckets on * to list the account's buckets, or add data "
                "links by hand (s3://bucket/prefix). Listing buckets is optional."
            )
        raise
    return buckets


def with_regions(
    s3_for_region: Callable[[str], AwsClient], buckets: list[Bucket], default_region: str
) -> list[Bucket]:
    """``buckets`` with every region filled in; a bucket whose region cannot be read keeps
    None (it is looked up again when the link is used)."""
    missing = [bucket for bucket in buckets if bucket.region is None]
    if not missing:
        return buckets
    s3 = s3_for_region(default_region)

    def lookup(bucket: Bucket) -> Bucket:
        try:
            return Bucket(bucket.name, bucket_region(s3, bucket.name))
        except AwsError:
            return bucket

    with ThreadPoolExecutor(max_workers=min(LOCATION_WORKERS, len(missing))) as pool:
        found = {bucket.name: bucket for bucket in pool.map(lookup, missing)}
    return [found.get(bucket.name, bucket) for bucket in buckets]
