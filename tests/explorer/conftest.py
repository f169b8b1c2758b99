"""Fixtures of the Data Explorer tests: credentials in the API, buckets in the emulator.

Buckets get unique names, so tests share the emulator without resetting it (a reset costs
~1 s); tests that count buckets assert on their own buckets only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.loaders import create_loader

from batchforge.aws.recorder import CallRecorder
from batchforge.client import BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.runtime import build_context
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.cli.conftest import live_server  # noqa: F401 - a fixture used here too
from tests.factories import keys_credentials

# One botocore model loader for every test's context, as a server process has: without it
# each test parses the S3 and STS models again (~0.2 s each).
_LOADER = create_loader()


@pytest.fixture
def app_ctx(
    settings: Settings, local_aws: LocalAws, recorder: CallRecorder
) -> Iterator[AppContext]:
    ctx = build_context(settings, emulator_url=local_aws.url, recorder=recorder)
    ctx.aws._loader = _LOADER
    yield ctx
    ctx.db.dispose()


@dataclass
class Seeded:
    """A bucket in the emulator and the API's discovered link to it."""

    bucket: str
    s3: Any  # plain boto3 client on the emulator (setup only)
    credentials_id: str
    link_id: str

    def put(self, key: str, body: bytes | str = b"x", **extra: Any) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def get(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def unique_bucket(label: str = "data") -> str:
    return f"bf-{label}-{uuid.uuid4().hex[:12]}"


def make_bucket(local_aws: LocalAws, region: str = "us-east-1", label: str = "data") -> str:
    name = unique_bucket(label)
    s3 = local_aws.boto_client("s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return name


@pytest.fixture
def credentials_id(api: BatchforgeClient) -> str:
    return api.create_credentials(keys_credentials(f"lab-{uuid.uuid4().hex[:6]}"))


@pytest.fixture
def seeded(api: BatchforgeClient, local_aws: LocalAws, credentials_id: str) -> Seeded:
    """A fresh bucket, discovered through the API (its discovered link)."""
    bucket = make_bucket(local_aws)
    api.refresh_data_links(credentials_id)
    links = api.list_data_links(credentials_id, search=bucket).dataLinks
    assert [link.name for link in links] == [bucket]
    return Seeded(bucket, local_aws.boto_client("s3"), credentials_id, links[0].id)


@pytest.fixture
def custom_link(api: BatchforgeClient, seeded: Seeded) -> Callable[..., str]:
    """Make a custom link to ``s3://<seeded bucket>/<prefix>``; returns its id."""
    from batchforge.schemas.data_links import DataLinkCreateRequest

    def make(prefix: str = "", name: str | None = None, **extra: Any) -> str:
        ref = f"s3://{seeded.bucket}" + (f"/{prefix}" if prefix else "")
        body = DataLinkCreateRequest(
            name=name or f"link-{uuid.uuid4().hex[:6]}",
            resourceRef=ref,
            credentialsId=seeded.credentials_id,
            **extra,
        )
        return api.create_data_link(body).id

    return make
