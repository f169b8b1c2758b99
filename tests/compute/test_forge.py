"""Forge end to end through the API, against the emulator plus real-AWS rules."""

from __future__ import annotations

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules
from tests.compute.conftest import forged_names, nothing_left


def create(api: BatchforgeClient, body: dict) -> str:
    return api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]


def describe(api: BatchforgeClient, ce_id: str) -> dict:
    return api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]


def test_forge_creates_everything_then_dispose_removes_everything(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    label = api.request(
        "POST", "/labels", json={"name": "team", "value": "genomics", "resource": True}
    ).json()
    body = forge_body()
    body["labelIds"] = [label["id"]]
    ce_id = create(api, body)
    assert describe(api, ce_id)["status"] == "CREATING"

    assert forge_runner.run_pending(app_ctx) == 1
    env = describe(api, ce_id)
    assert env["status"] == "AVAILABLE", env["message"]
    assert env["config"]["headQueue"] == f"TowerForge-{ce_id}-head"
    assert env["config"]["computeQueue"] == f"TowerForge-{ce_id}-work"
    forged = env["config"]["forgedResources"]
    assert {r["status"] for r in forged} == {"CREATED"}
    names = forged_names(aws, ce_id)
    assert names["compute_environments"] == [f"TowerForge-{ce_id}-head", f"TowerForge-{ce_id}-work"]
    assert names["job_queues"] == names["compute_environments"]
    assert len(names["roles"]) == 5 and len(names["instance_profiles"]) == 1
    assert names["launch_templates"] == [f"TowerForge-{ce_id}"]
    batch = aws.boto_client("batch")
    queue = batch.describe_job_queues(jobQueues=[f"TowerForge-{ce_id}-work"])["jobQueues"][0]
    assert queue["tags"]["team"] == "genomics"  # resource labels become tags
    sent = [c.params for c in app_ctx.recorder.calls if c.name == "batch:CreateJobQueue"]
    assert all(p["jobStateTimeLimitActions"][0]["action"] == "CANCEL" for p in sent)

    api.request("DELETE", f"/compute-envs/{ce_id}")
    assert describe(api, ce_id)["status"] == "DELETING"
    forge_runner.run_pending(app_ctx)
    # Read by id a deleted environment answers DELETED (what `tw compute-envs delete --wait`
    # waits for); lists no longer show it.
    assert describe(api, ce_id)["status"] == "DELETED"
    assert ce_id not in [e["id"] for e in api.request("GET", "/compute-envs").json()["computeEnvs"]]
    assert nothing_left(aws, ce_id)


def test_forge_with_efs_and_fsx(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    ce_id = create(
        api, forge_body(efsCreate=True, efsMount="/mnt/efs", fsxSize=1200, fsxMount="/fsx")
    )
    forge_runner.run_pending(app_ctx)
    assert describe(api, ce_id)["status"] == "AVAILABLE"
    names = forged_names(aws, ce_id)
    assert names["efs"] == [f"TowerForge-{ce_id}-efs"] and names["fsx"] == [
        f"TowerForge-{ce_id}-fsx"
    ]
    efs = aws.boto_client("efs")
    fs_id = efs.describe_file_systems(CreationToken=f"TowerForge-{ce_id}-efs")["FileSystems"][0][
        "FileSystemId"
    ]
    assert len(efs.describe_mount_targets(FileSystemId=fs_id)["MountTargets"]) >= 1
    api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(app_ctx)
    assert nothing_left(aws, ce_id)


def test_preserve_resources_keeps_them(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    ce_id = create(api, forge_body(type="EC2"))
    forge_runner.run_pending(app_ctx)
    api.request("DELETE", f"/compute-envs/{ce_id}", params={"preserveResources": "true"})
    assert describe(api, ce_id)["status"] == "DELETED"  # at once: nothing to dispose of
    names = forged_names(aws, ce_id)
    assert len(names["job_queues"]) == 2 and len(names["roles"]) == 4  # no fleet role with EC2


def test_creating_environment_needs_force_to_delete(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    ce_id = create(api, forge_body())
    with pytest.raises(ApiError) as caught:
        api.request("DELETE", f"/compute-envs/{ce_id}")
    assert caught.value.status == 409
    api.request("DELETE", f"/compute-envs/{ce_id}", params={"force": "true"})
    forge_runner.run_pending(app_ctx)
    assert nothing_left(aws, ce_id)


def test_credentials_in_use_cannot_be_deleted(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    rules: AwsRules,
    forge_body,
    credentials_id: str,
) -> None:
    ce_id = create(api, forge_body())
    forge_runner.run_pending(app_ctx)
    with pytest.raises(ApiError) as caught:
        api.delete_credentials(credentials_id)
    assert caught.value.status == 409
    assert caught.value.body["conflicts"][0]["id"] == ce_id
    api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(app_ctx)
    api.delete_credentials(credentials_id)  # free now


def test_primary_enable_disable_update(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    ce_id = create(api, forge_body())
    forge_runner.run_pending(app_ctx)
    api.request("POST", f"/compute-envs/{ce_id}/primary", json={})
    assert describe(api, ce_id)["primary"] is True
    api.request("POST", f"/compute-envs/{ce_id}/disable", json={})
    assert describe(api, ce_id)["status"] == "DISABLED"
    api.request("POST", f"/compute-envs/{ce_id}/enable", json={})
    assert describe(api, ce_id)["status"] == "AVAILABLE"
    api.request("PUT", f"/compute-envs/{ce_id}", json={"name": "renamed", "description": "d"})
    assert describe(api, ce_id)["name"] == "renamed"
    validated = api.request("POST", f"/compute-envs/{ce_id}/validate", json={}).json()
    assert validated["computeEnv"]["status"] == "AVAILABLE"
    listed = api.request("GET", "/compute-envs").json()["computeEnvs"]
    assert [e["name"] for e in listed] == ["renamed"]
