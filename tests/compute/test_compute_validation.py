"""Bad input: every invalid field is named with the reason (400), before any AWS call;
preflight problems are named too, and nothing is created."""

from __future__ import annotations

import copy

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules
from tests.compute.conftest import Network


def _post(api: BatchforgeClient, body: dict) -> ApiError:
    with pytest.raises(ApiError) as caught:
        api.request("POST", "/compute-envs", json=body)
    return caught.value


FORGE_CASES = [
    ({"type": None}, "computeEnv.config.forge.type"),
    ({"maxCpus": 0}, "computeEnv.config.forge.maxCpus"),
    ({"minCpus": 100, "maxCpus": 10}, "computeEnv.config.forge.minCpus"),
    ({"bidPercentage": 150}, "computeEnv.config.forge.bidPercentage"),
    ({"type": "EC2", "bidPercentage": 50}, "computeEnv.config.forge.bidPercentage"),
    (
        {"type": "EC2", "allocStrategy": "SPOT_CAPACITY_OPTIMIZED"},
        "computeEnv.config.forge.allocStrategy",
    ),
    ({"subnets": ["not-a-subnet"]}, "computeEnv.config.forge.subnets[0]"),
    ({"securityGroups": ["sg-zz"]}, "computeEnv.config.forge.securityGroups[0]"),
    ({"vpcId": None}, "computeEnv.config.forge.vpcId"),
    ({"instanceTypes": ["M5 LARGE"]}, "computeEnv.config.forge.instanceTypes[0]"),
    ({"efsCreate": True, "efsMount": "efs"}, "computeEnv.config.forge.efsMount"),
    (
        {"efsCreate": True, "efsId": "fs-12345678", "efsMount": "/m"},
        "computeEnv.config.forge.efsId",
    ),
    ({"fsxSize": 1000, "fsxMount": "/fsx"}, "computeEnv.config.forge.fsxSize"),
    ({"fsxSize": 1200, "fsxMount": "fsx"}, "computeEnv.config.forge.fsxMount"),
    ({"imageId": "image-1"}, "computeEnv.config.forge.imageId"),
    ({"gpuEnabled": True, "arm64Enabled": True}, "computeEnv.config.forge.arm64Enabled"),
]


@pytest.mark.parametrize(("change", "field"), FORGE_CASES)
def test_invalid_forge_field_is_named_before_any_aws_call(
    api: BatchforgeClient, app_ctx: AppContext, forge_body, change: dict, field: str
) -> None:
    body = forge_body()
    body["computeEnv"]["config"]["forge"].update(change)
    mark = app_ctx.recorder.count()
    error = _post(api, body)
    assert error.status == 400, error.message
    assert error.field == field, error.message
    assert app_ctx.recorder.count() == mark  # no AWS call was made


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("name",), "bad name", "computeEnv.name"),
        (("platform",), "google-batch", "computeEnv.platform"),
        (("config", "region"), "mars-1", "computeEnv.config.region"),
        (("config", "workDir"), "ftp://x", "computeEnv.config.workDir"),
        (("config", "workDir"), "/scratch/work", "computeEnv.config.workDir"),
        (("config", "headJobMemoryMb"), 100, "computeEnv.config.headJobMemoryMb"),
        (("config", "headJobRole"), "role", "computeEnv.config.headJobRole"),
    ],
)
def test_invalid_common_field_is_named(
    api: BatchforgeClient, forge_body, path: tuple, value: object, field: str
) -> None:
    body = forge_body()
    target = body["computeEnv"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    error = _post(api, body)
    assert (error.status, error.field) == (400, field), error.message


def test_unknown_credentials_is_404(api: BatchforgeClient, forge_body) -> None:
    body = forge_body()
    body["computeEnv"]["credentialsId"] = "nope"
    assert _post(api, body).status == 404


def test_duplicate_name_is_409(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    api.request("POST", "/compute-envs", json=forge_body("same"))
    assert _post(api, forge_body("same")).status == 409


def test_preflight_work_dir_bucket_missing_or_in_another_region(
    api: BatchforgeClient, aws: LocalAws, forge_body
) -> None:
    body = forge_body()
    body["computeEnv"]["config"]["workDir"] = "s3://no-such-bucket-here/work"
    error = _post(api, body)
    assert error.field == "computeEnv.config.workDir" and "does not exist" in error.message
    aws.boto_client("s3", "eu-west-1").create_bucket(
        Bucket="bucket-in-ireland", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    body["computeEnv"]["config"]["workDir"] = "s3://bucket-in-ireland/work"
    error = _post(api, body)
    assert error.field == "computeEnv.config.workDir" and "eu-west-1" in error.message


def test_preflight_subnet_of_another_vpc_and_unknown_instance_type(
    api: BatchforgeClient, aws: LocalAws, network: Network, forge_body
) -> None:
    ec2 = aws.boto_client("ec2")
    other_vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    other_subnet = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    error = _post(api, forge_body(subnets=[other_subnet]))
    assert error.field == "computeEnv.config.forge.subnets" and other_vpc in error.message
    error = _post(api, forge_body(instanceTypes=["zz9.huge"]))
    assert error.field == "computeEnv.config.forge.instanceTypes[0]"


def test_preflight_quota(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, forge_body
) -> None:
    batch, iam = aws.boto_client("batch"), aws.boto_client("iam")
    role = iam.create_role(RoleName="svc", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for index in range(49):
        batch.create_compute_environment(
            computeEnvironmentName=f"existing-{index}", type="UNMANAGED", serviceRole=role
        )
    error = _post(api, forge_body())
    assert error.field == "computeEnv.config.forge" and "49 of 50" in error.message
    assert app_ctx.recorder.count("iam:CreateRole") == 0


def test_forge_without_network_uses_the_default_vpc(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    rules: AwsRules,
    forge_body,
    network: Network,
) -> None:
    ce_id = api.request(
        "POST", "/compute-envs", json=forge_body(vpcId=None, subnets=[], securityGroups=[])
    ).json()["computeEnvId"]
    forge_runner.run_pending(app_ctx)
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert env["status"] == "AVAILABLE"
    assert env["config"]["forge"]["vpcId"] == network.vpc
    assert env["config"]["forge"]["securityGroups"] == [network.security_group]
    assert "chosen automatically" in env["message"]


def test_manual_environment_validates_queues_and_creates_nothing(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, credentials_id: str
) -> None:
    batch, iam = aws.boto_client("batch"), aws.boto_client("iam")
    role = iam.create_role(RoleName="svc", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ce = batch.create_compute_environment(
        computeEnvironmentName="mine", type="UNMANAGED", serviceRole=role
    )
    for name in ("my-head", "my-work"):
        batch.create_job_queue(
            jobQueueName=name,
            priority=1,
            state="ENABLED",
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}
            ],
        )
    manual = {
        "computeEnv": {
            "name": "manual",
            "platform": "aws-batch",
            "credentialsId": credentials_id,
            "config": {
                "region": "us-east-1",
                "workDir": f"s3://{WORK_BUCKET}/w",
                "headQueue": "my-head",
                "computeQueue": "my-work",
            },
        }
    }
    bad = copy.deepcopy(manual)
    bad["computeEnv"]["config"]["headQueue"] = "missing-queue"
    error = _post(api, bad)
    assert error.field == "computeEnv.config.headQueue" and "does not exist" in error.message
    batch.update_job_queue(jobQueue="my-work", state="DISABLED")
    error = _post(api, manual)
    assert error.field == "computeEnv.config.computeQueue" and "DISABLED" in error.message
    batch.update_job_queue(jobQueue="my-work", state="ENABLED")

    creates_before = sum(1 for c in app_ctx.recorder.calls if ":Create" in c.name)
    ce_id = api.request("POST", "/compute-envs", json=manual).json()["computeEnvId"]
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert env["status"] == "AVAILABLE"
    assert (env["config"]["headQueue"], env["config"]["computeQueue"]) == ("my-head", "my-work")
    api.request("DELETE", f"/compute-envs/{ce_id}")
    assert sum(1 for c in app_ctx.recorder.calls if ":Create" in c.name) == creates_before
    assert len(batch.describe_job_queues()["jobQueues"]) == 2  # untouched
