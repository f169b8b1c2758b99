"""/data-links: discovery from credentials, the cache, custom links, status, visibility."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.schemas.data_links import DataLinkCreateRequest, DataLinkUpdateRequest
from batchforge.services import accounts
from batchforge.services.context import AppContext
from tests.conftest import make_client
from tests.explorer.conftest import Seeded, make_bucket


def test_first_list_discovers_buckets_with_their_regions(
    api: BatchforgeClient, local_aws: LocalAws, credentials_id: str, app_ctx: AppContext
) -> None:
    home = make_bucket(local_aws)
    abroad = make_bucket(local_aws, "eu-west-1")
    links = {link.name: link for link in api.list_data_links().dataLinks}
    assert home in links and abroad in links
    assert links[home].region == "us-east-1"
    assert links[abroad].region == "eu-west-1"
    assert links[abroad].resourceRef == f"s3://{abroad}"
    assert links[abroad].status == "VALID" and links[abroad].creationSource == "discovered"
    assert [c.id for c in links[abroad].credentials] == [credentials_id]
    assert links[home].id.startswith("v1-cloud-")

    # The cache answers the next list: no AWS call until a refresh.
    calls = app_ctx.recorder.count()
    api.list_data_links()
    assert app_ctx.recorder.count() == calls


def test_refresh_finds_new_buckets_forgets_deleted_ones_and_keeps_ids(
    api: BatchforgeClient, local_aws: LocalAws, credentials_id: str
) -> None:
    kept = make_bucket(local_aws)
    gone = make_bucket(local_aws)
    before = {link.name: link.id for link in api.list_data_links().dataLinks}
    assert gone in before
    local_aws.boto_client("s3").delete_bucket(Bucket=gone)
    new = make_bucket(local_aws)

    result = api.refresh_data_links(credentials_id)
    assert result.refreshed[0].status == "OK" and result.refreshed[0].buckets >= 2

    after = {link.name: link.id for link in api.list_data_links().dataLinks}
    assert new in after and gone not in after
    assert after[kept] == before[kept]


def test_custom_link_to_a_prefix_is_checked_and_listed(
    api: BatchforgeClient, seeded: Seeded, app_ctx: AppContext
) -> None:
    seeded.put("runs/a.txt", "a")
    mark = app_ctx.recorder.count()
    link = api.create_data_link(
        DataLinkCreateRequest(
            name="runs",
            description="pipeline runs",
            resourceRef=f"s3://{seeded.bucket}/runs/",
            credentialsId=seeded.credentials_id,
        )
    )
    assert [c.name for c in app_ctx.recorder.since(mark)] == [
        "s3:GetBucketLocation",
        "s3:ListObjectsV2",
    ]
    assert link.status == "VALID" and link.region == "us-east-1"
    assert link.resourceRef == f"s3://{seeded.bucket}/runs"
    assert link.creationSource == "custom" and link.id.startswith("v1-user-")
    assert {e.action: e.status for e in link.extras} == {
        "s3:AbortMultipartUpload": "unknown",
        "s3:DeleteObject": "unknown",
    }
    assert api.describe_data_link(link.id).description == "pipeline runs"
    assert [item.name for item in api.browse_data_link(link.id).objects] == ["a.txt"]


def test_link_to_a_missing_bucket_is_invalid_with_awss_reason(
    api: BatchforgeClient, credentials_id: str
) -> None:
    link = api.create_data_link(
        DataLinkCreateRequest(
            name="nothing", resourceRef="s3://bf-no-such-bucket-here", credentialsId=credentials_id
        )
    )
    assert link.status == "INVALID"
    assert "NoSuchBucket" in (link.message or "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resourceRef": "gs://bucket"}, "resourceRef"),
        ({"resourceRef": "s3://Bad_Bucket"}, "resourceRef"),
        ({"resourceRef": "s3://bucket/a/../b"}, "resourceRef"),
        ({"resourceRef": "s3://bucket/a\nb"}, "resourceRef"),
        ({"provider": "google"}, "provider"),
        ({"region": "mars-1"}, "region"),
        ({"name": "  "}, "name"),
        ({"credentialsId": None}, "credentialsId"),
    ],
)
def test_bad_custom_links_are_400_naming_the_field(
    api: BatchforgeClient, credentials_id: str, body: dict[str, object], field: str
) -> None:
    payload: dict[str, object] = {
        "name": "x",
        "resourceRef": "s3://bucket",
        "credentialsId": credentials_id,
        **body,
    }
    with pytest.raises(ApiError) as caught:
        api.request("POST", "/data-links", json={k: v for k, v in payload.items() if v is not None})
    assert caught.value.status == 400
    assert caught.value.field == field


def test_names_are_unique_update_and_delete(
    api: BatchforgeClient, seeded: Seeded, custom_link: Callable[..., str]
) -> None:
    first = custom_link(name="results")
    with pytest.raises(ApiError) as caught:
        custom_link(name="results")
    assert caught.value.status == 409
    other = custom_link(name="other")
    with pytest.raises(ApiError):
        api.update_data_link(other, DataLinkUpdateRequest(name="results"))

    updated = api.update_data_link(first, DataLinkUpdateRequest(name="final", description="d"))
    assert (updated.name, updated.description) == ("final", "d")
    api.delete_data_link(first)
    with pytest.raises(ApiError) as gone:
        api.describe_data_link(first)
    assert gone.value.status == 404


def test_discovered_links_can_be_hidden_but_not_renamed_or_deleted(
    api: BatchforgeClient, seeded: Seeded
) -> None:
    with pytest.raises(ApiError) as renamed:
        api.update_data_link(seeded.link_id, DataLinkUpdateRequest(name="mine"))
    assert renamed.value.status == 400
    with pytest.raises(ApiError) as deleted:
        api.delete_data_link(seeded.link_id)
    assert deleted.value.status == 400 and "hide" in deleted.value.message

    api.update_data_link(seeded.link_id, DataLinkUpdateRequest(hidden=True))
    assert seeded.bucket not in [link.name for link in api.list_data_links().dataLinks]
    hidden = api.list_data_links(visibility="hidden").dataLinks
    assert seeded.bucket in [link.name for link in hidden]
    api.refresh_data_links(seeded.credentials_id)  # hiding survives a refresh
    assert api.describe_data_link(seeded.link_id).hidden


def test_search_and_paging_of_the_list(
    api: BatchforgeClient, seeded: Seeded, custom_link: Callable[..., str]
) -> None:
    for name in ("alpha-1", "alpha-2", "beta"):
        custom_link(name=name)
    found = api.list_data_links(search="ALPHA")
    assert [link.name for link in found.dataLinks] == ["alpha-1", "alpha-2"]
    assert found.totalSize == 2
    page = api.list_data_links(search="alpha region:us-east-1", max_results=1, offset=1)
    assert [link.name for link in page.dataLinks] == ["alpha-2"] and page.totalSize == 2
    assert api.list_data_links(search="region:eu-west-3 alpha").dataLinks == []


def test_deleted_credentials_invalidate_custom_links(
    api: BatchforgeClient, seeded: Seeded, custom_link: Callable[..., str]
) -> None:
    link_id = custom_link()
    api.delete_credentials(seeded.credentials_id)
    link = api.describe_data_link(link_id)
    assert link.status == "INVALID" and "credentials" in (link.message or "")
    assert seeded.bucket not in [item.name for item in api.list_data_links().dataLinks]
    with pytest.raises(ApiError) as caught:
        api.browse_data_link(link_id)
    assert caught.value.status == 400


def test_another_workspace_sees_nothing(
    api: BatchforgeClient, seeded: Seeded, app_ctx: AppContext, custom_link: Callable[..., str]
) -> None:
    link_id = custom_link()
    user_id, token = accounts.create_user(app_ctx, "outsider")
    accounts.create_workspace(app_ctx, "elsewhere", "theirs", user_id)
    with make_client(app_ctx, token) as outsider:
        assert outsider.list_data_links().dataLinks == []
        for call in (
            lambda: outsider.describe_data_link(link_id),
            lambda: outsider.browse_data_link(seeded.link_id),
            lambda: outsider.delete_data_link(link_id),
            lambda: outsider.data_link_download_url(seeded.link_id, "x"),
        ):
            with pytest.raises(ApiError) as caught:
                call()
            assert caught.value.status == 404
        with pytest.raises(ApiError) as denied:
            outsider.list_data_links(credentials_id=seeded.credentials_id)
        assert denied.value.status == 404
