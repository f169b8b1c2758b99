"""The live permission check runs before a compute environment is created."""

from __future__ import annotations

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.services.context import AppContext
from tests.factories import Keys, keys_credentials
from tests.iam.users import READ_EXTRAS, SEED, make_user, without


def _credentials(api: BatchforgeClient, aws: LocalAws, name: str, policy: dict) -> str:
    """A user with ``policy`` plus the preflight's reading extras: without them, on AWS (and
    under the test layer's IAM enforcement) the user cannot read its own policies and the
    live check can only say "unknown"."""
    auth = make_user(aws, name, inline=policy, managed=READ_EXTRAS)
    keys = Keys(auth.access_key or "", auth.secret_key or "")
    return api.create_credentials(keys_credentials(name, keys))


def test_missing_required_permission_blocks_and_names_it(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, forge_body
) -> None:
    credentials_id = _credentials(api, aws, "no-create-role", without(SEED, "iam:CreateRole"))
    body = forge_body()
    body["computeEnv"]["credentialsId"] = credentials_id
    with pytest.raises(ApiError) as caught:
        api.request("POST", "/compute-envs", json=body)
    assert caught.value.status == 400
    assert caught.value.field == "computeEnv.credentialsId"
    assert "iam:CreateRole" in caught.value.message
    assert app_ctx.recorder.count("iam:CreateRole") == 0  # nothing was created
    assert api.request("GET", "/compute-envs").json()["computeEnvs"] == []


def test_the_seed_policy_is_enough(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, forge_body
) -> None:
    credentials_id = _credentials(api, aws, "seed", SEED)
    body = forge_body()
    body["computeEnv"]["credentialsId"] = credentials_id
    ce_id = api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert env["status"] == "CREATING"


def _tag_conditioned_seed() -> dict:
    """The seed with its job-management statement restricted by a resource tag, as the
    seed's own least-privilege example shows."""
    import copy

    policy = copy.deepcopy(SEED)
    for statement in policy["Statement"]:
        if statement["Sid"] == "BatchJobsManagementCanBeRestricted":
            statement["Condition"] = {"StringEqualsIfExists": {"aws:ResourceTag/team": "lab"}}
    return policy


def test_tag_conditioned_policy_needs_the_labels(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, forge_body
) -> None:
    credentials_id = _credentials(api, aws, "tagged", _tag_conditioned_seed())
    body = forge_body()
    body["computeEnv"]["credentialsId"] = credentials_id
    with pytest.raises(ApiError) as caught:
        api.request("POST", "/compute-envs", json=body)
    assert (caught.value.status, caught.value.field) == (400, "labelIds")
    assert "team=lab" in caught.value.message
    label = api.request(
        "POST", "/labels", json={"name": "team", "value": "lab", "resource": True}
    ).json()
    body["labelIds"] = [label["id"]]
    ce_id = api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]
    assert api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]["status"] == (
        "CREATING"
    )
