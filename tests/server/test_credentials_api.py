"""The /credentials API through the typed client, against the emulator."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from batchforge.client import ApiError, BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.services import accounts
from batchforge.services.context import AppContext
from tests.conftest import make_client
from tests.factories import aws_user, fake_keys, keys_credentials


def test_create_list_describe_never_return_the_secret(
    api: BatchforgeClient, local_aws: LocalAws, app_ctx: AppContext
) -> None:
    user = fake_keys()
    credentials_id = api.create_credentials(keys_credentials("lab", user))

    listed = api.list_credentials()
    assert [item.name for item in listed] == ["lab"]
    described = api.describe_credentials(credentials_id)
    assert described.status == "AVAILABLE"
    assert described.keys.accessKey == user.access_key
    assert described.keys.mode == "keys"
    raw = api.request("GET", f"/credentials/{credentials_id}").text
    raw_list = api.request("GET", "/credentials").text
    assert user.secret_key not in raw and user.secret_key not in raw_list
    assert "secretKey" not in raw


def test_secret_key_is_encrypted_at_rest_and_never_logged(
    api: BatchforgeClient,
    local_aws: LocalAws,
    app_ctx: AppContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = fake_keys()
    caplog.set_level(logging.DEBUG)
    credentials_id = api.create_credentials(keys_credentials("lab", user))
    with app_ctx.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM credentials")).all()
    dumped = repr(rows)
    assert credentials_id in dumped
    assert user.secret_key not in dumped
    assert user.secret_key not in caplog.text
    assert all(user.secret_key not in repr(call.params) for call in app_ctx.recorder.calls)


def test_create_validates_with_get_caller_identity(
    api: BatchforgeClient, local_aws: LocalAws, app_ctx: AppContext
) -> None:
    user = fake_keys()
    api.create_credentials(keys_credentials("lab", user))
    assert app_ctx.recorder.names() == ["sts:GetCallerIdentity"]


def test_wrong_keys_are_rejected_with_awss_reason_and_nothing_is_stored(
    api: BatchforgeClient, local_aws: LocalAws
) -> None:
    user = fake_keys()  # with auth on, keys of no IAM user are rejected
    local_aws.set_auth(enabled=True)
    try:
        with pytest.raises(ApiError) as caught:
            api.create_credentials(keys_credentials("wrong", user))
    finally:
        local_aws.set_auth(enabled=False)
    assert caught.value.status == 400
    assert "InvalidClientTokenId" in caught.value.message
    assert "sts:GetCallerIdentity" in caught.value.message
    assert caught.value.hint
    assert user.secret_key not in str(caught.value.body)
    assert api.list_credentials() == []


def test_role_that_cannot_be_assumed_gets_400_with_trust_policy_hint(
    api: BatchforgeClient, local_aws: LocalAws
) -> None:
    user = aws_user(local_aws)
    local_aws.set_auth(enabled=True)  # the user has no sts:AssumeRole permission
    try:
        with pytest.raises(ApiError) as caught:
            api.create_credentials(
                keys_credentials("role", user, assumeRoleArn="arn:aws:iam::123456789012:role/Nope")
            )
    finally:
        local_aws.set_auth(enabled=False)
    assert caught.value.status == 400
    assert caught.value.field == "credentials.keys.assumeRoleArn"
    assert "sts:AssumeRole" in caught.value.message and "AccessDenied" in caught.value.message
    assert "trust policy" in (caught.value.hint or "")
    assert api.list_credentials() == []


def test_role_mode_assumes_the_role_with_external_id(
    api: BatchforgeClient, local_aws: LocalAws, app_ctx: AppContext
) -> None:
    user = fake_keys()
    role = "arn:aws:iam::123456789012:role/BatchforgeAccess"
    credentials_id = api.create_credentials(
        keys_credentials("role", user, assumeRoleArn=role, externalId="ext-123")
    )
    described = api.describe_credentials(credentials_id)
    assert described.keys.assumeRoleArn == role
    assert described.keys.externalId == "ext-123"
    assert app_ctx.recorder.names() == ["sts:GetCallerIdentity", "sts:AssumeRole"]
    assume = app_ctx.recorder.calls[-1]
    assert assume.params["ExternalId"] == "ext-123"
    assert assume.params["RoleArn"] == role


def test_use_external_id_generates_one(api: BatchforgeClient) -> None:
    user = fake_keys()
    credentials_id = api.create_credentials(
        keys_credentials("role", user, assumeRoleArn="arn:aws:iam::123456789012:role/R"),
        use_external_id=True,
    )
    external_id = api.describe_credentials(credentials_id).keys.externalId
    assert external_id and len(external_id) >= 16


def test_duplicate_name_is_409(api: BatchforgeClient) -> None:
    user = fake_keys()
    api.create_credentials(keys_credentials("lab", user))
    with pytest.raises(ApiError) as caught:
        api.create_credentials(keys_credentials("lab", user))
    assert caught.value.status == 409
    assert caught.value.field == "credentials.name"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"credentials": {"name": "x", "provider": "aws", "keys": {"accessKey": 5}}},
            "credentials.keys.accessKey",
        ),
        ({"credentials": {"provider": "aws"}}, "credentials.name"),
        (
            {
                "credentials": {
                    "name": "bad name!",
                    "provider": "aws",
                    "keys": {"accessKey": "AKIAAAAAAAAAAAAAAAAA", "secretKey": "s"},
                }
            },
            "credentials.name",
        ),
        ({"credentials": {"name": "x", "provider": "google", "keys": {}}}, "credentials.provider"),
        (
            {
                "credentials": {
                    "name": "x",
                    "provider": "aws",
                    "keys": {"accessKey": "not-a-key", "secretKey": "s"},
                }
            },
            "credentials.keys.accessKey",
        ),
        (
            {
                "credentials": {
                    "name": "x",
                    "provider": "aws",
                    "keys": {"accessKey": "AKIAAAAAAAAAAAAAAAAA"},
                }
            },
            "credentials.keys.secretKey",
        ),
        (
            {
                "credentials": {
                    "name": "x",
                    "provider": "aws",
                    "keys": {"mode": "role", "assumeRoleArn": "arn:aws:s3:::bucket"},
                }
            },
            "credentials.keys.assumeRoleArn",
        ),
    ],
)
def test_malformed_body_is_400_naming_the_field(
    api: BatchforgeClient, app_ctx: AppContext, body: dict, field: str
) -> None:
    with pytest.raises(ApiError) as caught:
        api.request("POST", "/credentials", json=body)
    assert caught.value.status == 400
    assert caught.value.field == field
    assert field.split(".")[-1] in caught.value.message
    assert app_ctx.recorder.calls == []  # rejected before any AWS call


def test_invalid_json_is_400(api: BatchforgeClient) -> None:
    response = api._http.post(
        "/credentials", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "The request body is not valid JSON."


def test_missing_or_wrong_token_is_401(app_ctx: AppContext, admin_token: str) -> None:
    for token in (None, "bf_wrong"):
        with make_client(app_ctx, token) as client, pytest.raises(ApiError) as caught:
            client.list_credentials()
        assert caught.value.status == 401


def test_resource_of_another_workspace_is_404(
    api: BatchforgeClient, local_aws: LocalAws, app_ctx: AppContext, admin_token: str
) -> None:
    user = fake_keys()
    me = api.user_info()
    other_ws = accounts.create_workspace(app_ctx, "default", "other", me.user.id)
    with make_client(app_ctx, admin_token, other_ws) as other:
        other_id = other.create_credentials(keys_credentials("elsewhere", user))
        assert [c.name for c in other.list_credentials()] == ["elsewhere"]
    assert api.list_credentials() == []
    for call in (api.describe_credentials, api.delete_credentials, api.validate_credentials):
        with pytest.raises(ApiError) as caught:
            call(other_id)
        assert caught.value.status == 404


def test_workspace_without_membership_is_404(api: BatchforgeClient, app_ctx: AppContext) -> None:
    """A workspace the caller is not in answers as one that does not exist (services/authz)."""
    foreign_ws = accounts.create_workspace(app_ctx, "other-org", "private", owner_id=None)
    with pytest.raises(ApiError) as caught:
        api.request("GET", "/credentials", params={"workspaceId": foreign_ws})
    assert caught.value.status == 404 and caught.value.field == "workspaceId"


def test_update_rename_and_rotate_keys(
    api: BatchforgeClient, local_aws: LocalAws, app_ctx: AppContext
) -> None:
    from batchforge.schemas.credentials import AwsKeysIn, CredentialsUpdateIn

    credentials_id = api.create_credentials(keys_credentials("lab"))
    api.update_credentials(credentials_id, CredentialsUpdateIn(name="lab2", description="d"))
    described = api.describe_credentials(credentials_id)
    assert (described.name, described.description) == ("lab2", "d")

    second = fake_keys()
    api.update_credentials(
        credentials_id,
        CredentialsUpdateIn(
            keys=AwsKeysIn(accessKey=second.access_key, secretKey=second.secret_key)
        ),
    )
    assert api.describe_credentials(credentials_id).keys.accessKey == second.access_key
    from batchforge.services.credentials import stored_keys

    workspace_id = api.user_info().defaultWorkspaceId
    assert stored_keys(app_ctx, workspace_id, credentials_id).secret_key == second.secret_key


def test_update_with_new_access_key_but_no_secret_is_400(
    api: BatchforgeClient, local_aws: LocalAws
) -> None:
    from batchforge.schemas.credentials import AwsKeysIn, CredentialsUpdateIn

    user = fake_keys()
    credentials_id = api.create_credentials(keys_credentials("lab", user))
    with pytest.raises(ApiError) as caught:
        api.update_credentials(
            credentials_id,
            CredentialsUpdateIn(keys=AwsKeysIn(accessKey="AKIAOTHEROTHEROTHER1")),
        )
    assert caught.value.status == 400
    assert caught.value.field == "credentials.keys.secretKey"


def test_delete(api: BatchforgeClient) -> None:
    credentials_id = api.create_credentials(keys_credentials("lab", fake_keys()))
    api.delete_credentials(credentials_id)
    assert api.list_credentials() == []
    with pytest.raises(ApiError) as caught:
        api.delete_credentials(credentials_id)
    assert caught.value.status == 404


def test_validate_marks_invalid_then_available(api: BatchforgeClient, local_aws: LocalAws) -> None:
    user = aws_user(local_aws)
    credentials_id = api.create_credentials(keys_credentials("lab", user))
    iam = local_aws.boto_client("iam")
    iam.update_access_key(UserName=user.user_name, AccessKeyId=user.access_key, Status="Inactive")
    iam.delete_access_key(UserName=user.user_name, AccessKeyId=user.access_key)
    local_aws.set_auth(enabled=True)
    try:
        result = api.validate_credentials(credentials_id)
    finally:
        local_aws.set_auth(enabled=False)
    assert result.status == "INVALID"
    assert "InvalidClientTokenId" in (result.message or "")
    assert api.describe_credentials(credentials_id).status == "INVALID"
    result = api.validate_credentials(credentials_id)  # auth off: any key is accepted again
    assert result.status == "AVAILABLE"
    assert api.describe_credentials(credentials_id).status == "AVAILABLE"


def test_validate_when_aws_is_unreachable_is_transient_and_keeps_status(
    api: BatchforgeClient, local_aws: LocalAws, app_ctx: AppContext
) -> None:
    credentials_id = api.create_credentials(keys_credentials("lab", fake_keys()))
    app_ctx.aws.endpoint_url = "http://127.0.0.1:9"  # nothing listens there
    app_ctx.aws.max_attempts = 1
    result = api.validate_credentials(credentials_id)
    assert result.transientError is True
    assert result.status == "AVAILABLE"
    assert "could not reach" in (result.message or "")
