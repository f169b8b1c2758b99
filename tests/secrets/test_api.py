"""``/pipeline-secrets``: workspace and user contexts, write-only values, names validated,
values encrypted at rest."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from batchforge.client import ApiError, BatchforgeClient
from batchforge.services.context import AppContext

VALUE = "s3cr3t-value-7f1d"


def test_create_list_describe_update_delete_never_returns_the_value(
    api: BatchforgeClient, app_ctx: AppContext
) -> None:
    secret_id = api.create_secret("DB_PASSWORD", VALUE)
    listed = api.request("GET", "/pipeline-secrets", params={"workspaceId": 1})
    assert VALUE not in listed.text
    assert [s["name"] for s in listed.json()["pipelineSecrets"]] == ["DB_PASSWORD"]
    assert listed.json()["totalSize"] == 1
    described = api.request("GET", f"/pipeline-secrets/{secret_id}", params={"workspaceId": 1})
    assert described.json()["pipelineSecret"]["name"] == "DB_PASSWORD"
    assert "value" not in described.json()["pipelineSecret"] and VALUE not in described.text
    before = api.describe_secret(secret_id).lastUpdated
    api.update_secret(secret_id, "another-value")
    assert api.describe_secret(secret_id).lastUpdated >= before  # type: ignore[operator]
    with app_ctx.db.transaction() as session:
        stored = session.execute(text("SELECT value_encrypted FROM pipeline_secret")).scalar()
    assert stored and stored.startswith("v1:") and "another-value" not in stored
    api.delete_secret(secret_id)
    assert api.list_secrets() == []
    with pytest.raises(ApiError) as missing:
        api.describe_secret(secret_id)
    assert missing.value.status == 404


def test_user_secrets_are_apart_from_workspace_secrets(api: BatchforgeClient) -> None:
    api.create_secret("TOKEN", "workspace-value")
    user_id = api.create_secret("TOKEN", "user-value", user=True)  # same name: another context
    assert [s.name for s in api.list_secrets(user=True)] == ["TOKEN"]
    assert [s.id for s in api.list_secrets(user=True)] == [user_id]
    assert user_id not in [s.id for s in api.list_secrets()]
    with pytest.raises(ApiError) as other_context:  # a user secret is not found in the workspace
        api.describe_secret(user_id)
    assert other_context.value.status == 404


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("1STARTS_WITH_DIGIT", "not a valid secret name"),
        ("HAS-DASH", "not a valid secret name"),
        ("DOUBLE__UNDERSCORE", "not a valid secret name"),
        ("X", "not a valid secret name"),
        ("A" * 101, "at most 100"),
        ("", "required"),
    ],
)
def test_invalid_names_are_refused_naming_the_field(
    api: BatchforgeClient, name: str, reason: str
) -> None:
    with pytest.raises(ApiError) as error:
        api.create_secret(name, VALUE)
    assert error.value.status == 400 and error.value.field == "name"
    assert reason in error.value.message
    assert api.list_secrets() == []


def test_a_duplicate_name_is_refused_and_validate_says_so(api: BatchforgeClient) -> None:
    api.create_secret("API_KEY", VALUE)
    with pytest.raises(ApiError) as duplicate:
        api.create_secret("API_KEY", "other")
    assert duplicate.value.status == 400 and duplicate.value.field == "name"
    assert "already exists" in duplicate.value.message
    taken = api.request("GET", "/user-info", workspace=False)  # warm: default workspace id
    workspace_id = taken.json()["defaultWorkspaceId"]
    with pytest.raises(ApiError) as conflict:
        api.request(
            "GET",
            "/pipeline-secrets/validate",
            params={"name": "API_KEY", "workspaceId": workspace_id},
        )
    assert conflict.value.status == 409
    free = api.request(
        "GET",
        "/pipeline-secrets/validate",
        params={"name": "FREE_NAME", "workspaceId": workspace_id},
    )
    assert free.status_code == 204


def test_a_missing_or_empty_value_is_refused(api: BatchforgeClient) -> None:
    with pytest.raises(ApiError) as error:
        api.request("POST", "/pipeline-secrets", json={"name": "EMPTY"}, workspace=False)
    assert error.value.status == 400 and error.value.field == "value"
    with pytest.raises(ApiError) as too_big:
        api.create_secret("BIG", "x" * 70_000)
    assert too_big.value.field == "value" and "65536" in too_big.value.message


def test_another_workspace_is_not_found(api: BatchforgeClient) -> None:
    with pytest.raises(ApiError) as error:
        api.request("GET", "/pipeline-secrets", params={"workspaceId": 999_999}, workspace=False)
    assert error.value.status == 404
