"""The Data Explorer with exactly the seed policy's S3 permissions (s3:Get*, s3:List*,
s3:PutObject), the emulator enforcing them: everything but the extras works, and the extras
(delete, abort) are explained when AWS denies them."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.explorer import limits
from batchforge.local_aws import LocalAws
from batchforge.schemas.data_links import DataLinkCreateRequest
from tests.explorer.conftest import make_bucket
from tests.factories import Keys, keys_credentials

SEED_S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OptionalS3PlatformDataAccessCanBeRestricted",
            "Effect": "Allow",
            "Action": ["s3:Get*", "s3:List*", "s3:PutObject"],
            "Resource": "*",
        }
    ],
}


def user_with_policy(local_aws: LocalAws, policy: dict[str, object]) -> Keys:
    """A new IAM user of the emulator with ``policy`` as its only policy, and its keys."""
    iam = local_aws.boto_client("iam")
    name = f"explorer-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    document = json.dumps(with_emulator_s3_names(policy))
    iam.put_user_policy(UserName=name, PolicyName="test", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"], name)


def with_emulator_s3_names(policy: dict[str, Any]) -> dict[str, Any]:
    """``policy`` plus, in each statement, the S3 API names of the operations it authorises.

    AWS authorises S3 operations under IAM action names that differ from the API's
    (``CreateMultipartUpload``/``UploadPart``/``CompleteMultipartUpload`` as ``s3:PutObject``,
    ``ListObjectsV2`` as ``s3:ListBucket`` — IAM Service Authorization Reference, Amazon S3;
    ``batchforge.iam.calls.OPERATION_ACTIONS``).  The emulator's own auth (moto 5.2.6) checks
    the API name instead.  The added names are no IAM actions: AWS and batchforge's evaluator
    (which enforces every product call in tests) ignore them, so the policy means the same."""
    from fnmatch import fnmatchcase

    from batchforge.iam.calls import OPERATION_ACTIONS

    def granted(patterns: list[str], action: str) -> bool:
        return any(fnmatchcase(action.lower(), p.lower()) for p in patterns)

    statements = []
    for statement in policy["Statement"]:  # type: ignore[index]
        actions = statement["Action"]
        patterns = [actions] if isinstance(actions, str) else list(actions)
        extra = [
            f"s3:{operation}"
            for (service, operation), needed in OPERATION_ACTIONS.items()
            if service == "s3" and all(granted(patterns, a) for a in needed)
        ]
        statements.append({**statement, "Action": patterns + extra})
    return {**policy, "Statement": statements}


@pytest.fixture
def enforced(local_aws: LocalAws) -> Iterator[LocalAws]:
    """The emulator checking keys and IAM policies for the test's duration."""
    yield local_aws
    local_aws.set_auth(enabled=False)


def test_seed_permissions_browse_read_upload_and_explain_the_extras(
    api: BatchforgeClient, enforced: LocalAws, tmp_path: Path
) -> None:
    bucket = make_bucket(enforced)
    s3 = enforced.boto_client("s3")
    s3.put_object(Bucket=bucket, Key="data/a.csv", Body=b"x,y\n1,2\n")
    user = user_with_policy(enforced, SEED_S3_POLICY)
    enforced.set_auth(enabled=True)

    credentials_id = api.create_credentials(keys_credentials("seed", user))
    link = next(x for x in api.list_data_links(credentials_id).dataLinks if x.name == bucket)
    assert link.status == "VALID"
    assert [i.name for i in api.browse_data_link(link.id, "data").objects] == ["a.csv"]
    assert api.preview_data_link_file(link.id, "data/a.csv")[0] == b"x,y\n1,2\n"
    target = tmp_path / "a.csv"
    api.download_data_link_file(link.id, "data/a.csv", target)
    assert target.read_bytes() == b"x,y\n1,2\n"
    assert api.create_data_link_folder(link.id, "made") == "made/"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(limits.STREAM_PART_BYTES + 10))  # multipart: s3:PutObject only
    api.upload_data_link_file(link.id, "up", big, via_server=True)

    # Extra 1: deleting needs s3:DeleteObject.
    with pytest.raises(ApiError) as denied:
        api.delete_data_link_content(link.id, files=["data/a.csv"])
    assert denied.value.status == 403
    assert f"s3:DeleteObject on arn:aws:s3:::{bucket}/" in (denied.value.hint or "")
    assert "optional" in (denied.value.hint or "")

    # Extra 2: aborting a failed upload needs s3:AbortMultipartUpload: explained, not fatal.
    start = f"/data-links/{link.id}/upload"
    started = api.request("POST", start, json={"fileName": "f.bin", "contentLength": 10}).json()
    finish = api.request(
        "POST",
        f"/data-links/{link.id}/upload/finish",
        json={"fileName": "f.bin", "uploadId": started["uploadId"], "withError": True},
    ).json()
    assert finish["aborted"] is False
    assert "s3:AbortMultipartUpload" in finish["message"]
    assert "invisible" in finish["message"]

    extras = {e.action: e for e in api.describe_data_link(link.id).extras}
    assert extras["s3:DeleteObject"].status == "denied"
    assert "s3:DeleteObject" in (extras["s3:DeleteObject"].hint or "")
    assert extras["s3:AbortMultipartUpload"].status == "denied"

    enforced.set_auth(enabled=False)
    assert s3.get_object(Bucket=bucket, Key="up/big.bin")["ContentLength"] == big.stat().st_size
    assert s3.list_objects_v2(Bucket=bucket, Prefix="f.bin")["KeyCount"] == 0


def test_without_list_all_my_buckets_discovery_explains_and_custom_links_work(
    api: BatchforgeClient, enforced: LocalAws
) -> None:
    bucket = make_bucket(enforced)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"],
                "Resource": "*",
            }
        ],
    }
    user = user_with_policy(enforced, policy)
    enforced.set_auth(enabled=True)
    credentials_id = api.create_credentials(keys_credentials("narrow", user))
    refreshed = api.refresh_data_links(credentials_id).refreshed[0]
    assert refreshed.status == "DENIED"
    assert "s3:ListAllMyBuckets" in (refreshed.message or "")
    assert api.list_data_links(credentials_id).dataLinks == []
    body = DataLinkCreateRequest(
        name="by-hand", resourceRef=f"s3://{bucket}", credentialsId=credentials_id
    )
    link = api.create_data_link(body)
    assert link.status == "VALID"
