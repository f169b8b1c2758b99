"""``/policy/generate``, ``/policy/check`` and ``/policy/preflight`` through the typed client."""

from __future__ import annotations

import json

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn
from batchforge.services.context import AppContext
from tests.conftest import make_client
from tests.iam.seed import seed_block_with, seed_full_policy_text
from tests.iam.users import READ_EXTRAS, SEED, emulator_auth, make_user, without


def test_generate_without_scope_is_the_seed_policy(api: BatchforgeClient) -> None:
    generated = api.generate_policy()
    assert generated["layout"] == "quick-start" and not generated["split"]
    assert generated["policies"] == [json.loads(seed_full_policy_text())]
    assert generated["sizes"][0] > 2000


def test_generate_scoped_for_a_mode(api: BatchforgeClient) -> None:
    generated = api.generate_policy(
        mode="forge",
        features=["efs"],
        account="123456789012",
        region="eu-west-1",
        workDir="s3://nf-work/run",
        tags={"team": "genomics"},
    )
    assert generated["layout"] == "least-privilege"
    assert "efs" in generated["features"] and "forge" in generated["features"]
    text = json.dumps(generated["policies"])
    assert "arn:aws:s3:::nf-work/run/*" in text
    assert "arn:aws:batch:eu-west-1:123456789012:compute-environment/TowerForge-*" in text
    assert "aws:ResourceTag/team" in text
    assert any("dependent actions" in n for n in generated["notes"])


def test_generate_rejects_unknown_features(api: BatchforgeClient) -> None:
    with pytest.raises(ApiError) as caught:
        api.generate_policy(features=["forj"])
    assert caught.value.status == 400 and caught.value.code == "invalid-input"
    assert caught.value.field == "features" and "Did you mean forge" in (caught.value.hint or "")


def test_check_locates_the_seeds_syntax_error(api: BatchforgeClient) -> None:
    report = api.check_policy(seed_block_with("IAMRoleAndProfileManagement"), mode="forge")
    assert not report["usable"] and not report["ok"] and report["exitCode"] == 2
    (finding,) = [f for f in report["findings"] if f["code"] == "json-syntax"]
    assert finding["line"] == 23 and finding["column"] >= 1


def test_check_reports_missing_permissions(api: BatchforgeClient) -> None:
    full = api.check_policy(seed_full_policy_text())
    assert full["ok"] and full["exitCode"] == 0
    missing = json.dumps(without(SEED, "batch:SubmitJob"))
    report = api.check_policy(missing, features=["launch"])
    assert not report["ok"] and report["summary"]["requiredMissing"] >= 1
    codes = {f["code"] for f in report["findings"]}
    assert "required-permission-missing" in codes


def test_policy_endpoints_need_a_token(app_ctx: AppContext) -> None:
    with make_client(app_ctx, None) as anonymous, pytest.raises(ApiError) as caught:
        anonymous.generate_policy()
    assert caught.value.status == 401


def _credentials(api: BatchforgeClient, aws: LocalAws, **policies: dict) -> str:
    auth = make_user(aws, **policies)
    keys = AwsKeysIn(accessKey=auth.access_key, secretKey=auth.secret_key)
    return api.create_credentials(CredentialsIn(name="lab", provider="aws", keys=keys))


def test_preflight_of_stored_credentials(api: BatchforgeClient, aws: LocalAws) -> None:
    with emulator_auth(aws):
        aws.set_auth(False)
        credentials_id = _credentials(
            api, aws, managed=without(SEED, "iam:PassRole"), inline=READ_EXTRAS
        )
        aws.set_auth(True)
        report = api.preflight(credentials_id, "us-east-1", mode="forge")
    assert report["principal"]["type"] == "user" and report["principal"]["name"] == "alice"
    assert report["method"] == "policies" and report["region"] == "us-east-1"
    assert not report["ok"] and report["complete"]
    (blocking,) = report["blocking"]
    assert "iam:PassRole" in blocking and "PassRolesToBatchCanBeRestricted" in blocking
    denied = [p for p in report["permissions"] if p["verdict"] == "denied" and p["required"]]
    assert {p["action"] for p in denied} == {"iam:PassRole"}
    assert {tuple(p["context"].items()) for p in denied} == {
        (("iam:PassedToService", "batch.amazonaws.com"),),
        (("iam:PassedToService", "ec2.amazonaws.com"),),
    }
    assert report["awsCalls"] == 8
    assert report["scope"]["account"] == "123456789012"


def test_preflight_of_unknown_credentials(api: BatchforgeClient) -> None:
    with pytest.raises(ApiError) as caught:
        api.preflight("nope", "us-east-1")
    assert caught.value.status == 404


def test_policy_for_a_compute_env_config(api: BatchforgeClient) -> None:
    config = {
        "region": "eu-west-1",
        "workDir": "s3://my-work/run",
        "forge": {"type": "SPOT", "maxCpus": 8, "efsCreate": True, "efsMount": "/efs"},
    }
    body = api.request(
        "POST", "/policy/compute-env", json={"config": config, "account": "123456789012"}
    ).json()
    text = json.dumps(body["policies"])
    assert "batch:CreateComputeEnvironment" in text
    assert "elasticfilesystem:CreateMountTarget" in text
    assert "arn:aws:s3:::my-work" in text
    assert "eu-west-1" in text
    manual = {"region": "eu-west-1", "workDir": "s3://my-work/run", "headQueue": "q1"}
    text = json.dumps(
        api.request("POST", "/policy/compute-env", json={"config": manual}).json()["policies"]
    )
    assert "batch:CreateComputeEnvironment" not in text and "job-queue/q1" in text
