"""An environment's ``secretsKmsKeyId``: the copies are encrypted with it, and a forged
execution role may decrypt with it (and only it)."""

from __future__ import annotations

import pytest

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.forge.plan import build_plan
from batchforge.forge.spec import ForgeSpec
from batchforge.local_aws import LocalAws
from batchforge.services.context import AppContext
from tests.secrets.conftest import copies_in_aws


def _execution_statements(key: str | None) -> list[dict]:
    spec = ForgeSpec(ce_id="ce1", region="eu-west-1", work_dir="s3://b/w", secrets_kms_key=key)
    role = next(r for r in build_plan(spec) if r.key == "execution-role")
    return role.params["inline"]["batchforge-secrets"]["Statement"]


@pytest.mark.parametrize(
    ("key", "resource", "condition"),
    [
        ("1234abcd-12ab", "arn:aws:kms:eu-west-1:*:key/1234abcd-12ab", None),
        (
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab",
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab",
            None,
        ),
        (
            "alias/pipeline-secrets",
            "arn:aws:kms:eu-west-1:*:key/*",
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/pipeline-secrets"}},
        ),
    ],
)
def test_forged_execution_role_decrypts_with_the_environment_key_only(
    key: str, resource: str, condition: dict | None
) -> None:
    statements = _execution_statements(key)
    assert statements[0]["Action"] == ["secretsmanager:GetSecretValue"]
    assert statements[0]["Resource"] == "arn:aws:secretsmanager:eu-west-1:*:secret:tower-*"
    decrypt = statements[1]
    assert decrypt["Action"] == ["kms:Decrypt"] and decrypt["Resource"] == resource
    assert decrypt.get("Condition") == condition


def test_without_a_key_the_execution_role_has_no_kms_permission() -> None:
    assert len(_execution_statements(None)) == 1


def test_copies_are_encrypted_with_the_environment_key(
    api: BatchforgeClient, app_ctx: AppContext, local_aws: LocalAws, secret_env: str
) -> None:
    key_id = local_aws.boto_client("kms").create_key(Description="bf-test")["KeyMetadata"]["KeyId"]
    with app_ctx.db.transaction() as session:  # no API edits an environment's config
        row = session.get(models.ComputeEnv, secret_env)
        assert row is not None
        row.config = {**row.config, "secretsKmsKeyId": key_id}
    api.create_secret("TOKEN", "v-kms")
    run_id = api.launch_workflow(
        {"computeEnvId": secret_env, "pipeline": "hello", "workspaceSecrets": ["TOKEN"]}
    )
    (name,) = copies_in_aws(local_aws, run_id)
    described = local_aws.boto_client("secretsmanager").describe_secret(SecretId=name)
    assert described["KmsKeyId"] == key_id
