"""What real AWS and Nextflow refuse, refused at create time: S3 work dir, ARM64 and GPU
instance types, security groups that block EFS/Lustre, Seqera features batchforge does not
implement.  Each bad request is a 400 naming the field, and nothing is created in AWS."""

from __future__ import annotations

from typing import Any

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.forge.spec import AMI_PARAMETERS
from batchforge.local_aws import LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules
from tests.compute.conftest import Network

F = "computeEnv.config.forge"


def _post(api: BatchforgeClient, body: dict) -> ApiError:
    with pytest.raises(ApiError) as caught:
        api.request("POST", "/compute-envs", json=body)
    return caught.value


def resource_counts(aws: LocalAws) -> dict[str, int]:
    """How many resources of each kind Forge makes exist in the emulator (whatever their
    names: a refused request has no id to look for)."""
    iam, ec2, batch = aws.boto_client("iam"), aws.boto_client("ec2"), aws.boto_client("batch")
    efs, fsx = aws.boto_client("efs"), aws.boto_client("fsx")
    return {
        "roles": len(iam.list_roles()["Roles"]),
        "instance_profiles": len(iam.list_instance_profiles()["InstanceProfiles"]),
        "launch_templates": len(ec2.describe_launch_templates()["LaunchTemplates"]),
        "compute_environments": len(batch.describe_compute_environments()["computeEnvironments"]),
        "job_queues": len(batch.describe_job_queues()["jobQueues"]),
        "efs": len(efs.describe_file_systems()["FileSystems"]),
        "fsx": len(fsx.describe_file_systems()["FileSystems"]),
    }


def _refused(api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, body: dict) -> ApiError:
    """POST ``body``, expect a 400; assert no AWS create call was made and no resource or
    stored environment exists afterwards (the forge runner finds nothing to do)."""
    before = resource_counts(aws)
    creates = sum(1 for c in app_ctx.recorder.calls if ":Create" in c.name)
    error = _post(api, body)
    assert error.status == 400, error.message
    assert forge_runner.run_pending(app_ctx) == 0
    assert sum(1 for c in app_ctx.recorder.calls if ":Create" in c.name) == creates
    assert resource_counts(aws) == before
    return error


# --- work directory ----------------------------------------------------------------------


@pytest.mark.parametrize("work_dir", ["/mnt/efs/work", "/fsx/work"])
def test_an_efs_or_fsx_work_dir_is_refused(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, forge_body, work_dir: str
) -> None:
    """Nextflow's awsbatch executor aborts unless the work dir is in S3: nf-amazon
    ``AwsBatchExecutor.validateWorkDir()`` (Nextflow v24.10.5, "an S3 bucket must be provided
    as working directory").  EFS/FSx stay available as mounts beside an S3 work dir."""
    body = forge_body(efsCreate=True, efsMount="/mnt/efs", fsxSize=1200, fsxMount="/fsx")
    body["computeEnv"]["config"]["workDir"] = work_dir
    error = _refused(api, app_ctx, aws, body)
    assert error.field == "computeEnv.config.workDir"
    assert "S3" in error.message and "awsbatch" in error.message


def test_a_manual_environment_needs_an_s3_work_dir_too(
    api: BatchforgeClient, credentials_id: str
) -> None:
    """Same nf-amazon rule (``AwsBatchExecutor.validateWorkDir``) for existing queues."""
    body = {
        "computeEnv": {
            "name": "manual",
            "platform": "aws-batch",
            "credentialsId": credentials_id,
            "config": {"region": "us-east-1", "workDir": "/efs/work", "headQueue": "q"},
        }
    }
    error = _post(api, body)
    assert (error.status, error.field) == (400, "computeEnv.config.workDir")


# --- unsupported Seqera features ---------------------------------------------------------

UNSUPPORTED = [
    ("fusion2Enabled", True),
    ("waveEnabled", True),
    ("nvnmeStorageEnabled", True),
    ("fusionSnapshots", True),
    ("dragenQueue", "dragen-queue"),
    ("forge.fargateHeadEnabled", True),
    ("forge.fusionEnabled", True),
    ("forge.dragenEnabled", True),
    ("forge.dragenAmiId", "ami-0123456789abcdef0"),
]


def _set(body: dict, path: str, value: Any) -> None:
    section = body["computeEnv"]["config"]
    *parents, key = path.split(".")
    for parent in parents:
        section = section[parent]
    section[key] = value


@pytest.mark.parametrize(("path", "value"), UNSUPPORTED)
def test_an_unsupported_feature_turned_on_is_refused(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, forge_body, path: str, value: Any
) -> None:
    """Seqera's AwsBatchConfig/ForgeConfig fields (reference/seqera-api-cloud.yaml) that
    batchforge does not implement are refused, never silently ignored (issue 12, deliverable
    5): code ``unsupported``, the field named."""
    body = forge_body()
    _set(body, path, value)
    error = _refused(api, app_ctx, aws, body)
    assert error.code == "unsupported"
    assert error.field == f"computeEnv.config.{path}"
    assert "not supported by batchforge" in error.message


def test_unsupported_features_off_are_accepted(
    api: BatchforgeClient, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    """Exports carry the flags switched off (false/null/empty): those are accepted."""
    body = forge_body()
    for path, value in UNSUPPORTED:
        off = [] if isinstance(value, list) else (False if value is True else None)
        _set(body, path, off)
    response = api.request("POST", "/compute-envs", json=body)
    assert response.json()["computeEnvId"]


def test_all_unsupported_features_are_listed(api: BatchforgeClient, forge_body) -> None:
    body = forge_body(fusionEnabled=True, fargateHeadEnabled=True, ebsAutoScale=True)
    body["computeEnv"]["config"]["waveEnabled"] = True
    error = _post(api, body)
    assert error.field == "computeEnv.config.waveEnabled"
    assert "forge.fusionEnabled" in error.message and "forge.fargateHeadEnabled" in error.message
    # EBS auto-scaling is implemented (tests/compute/test_ebs_autoscale.py): never listed.
    assert "ebsAutoScale" not in error.message


@pytest.mark.parametrize("group", ["", "bad group", "x" * 513, "/aws/batch/job$"])
def test_an_invalid_log_group_name_is_refused(
    api: BatchforgeClient, forge_body, group: str
) -> None:
    """CloudWatch Logs CreateLogGroup: logGroupName is 1-512 characters of
    ``[\\.\\-_/#A-Za-z0-9]+`` (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/
    APIReference/API_CreateLogGroup.html)."""
    body = forge_body()
    body["computeEnv"]["config"]["logGroup"] = group
    error = _post(api, body)
    assert (error.status, error.field) == (400, "computeEnv.config.logGroup"), error.message


def test_an_environment_variable_reaching_nothing_is_refused(
    api: BatchforgeClient, forge_body
) -> None:
    body = forge_body()
    body["computeEnv"]["config"]["environment"] = [{"name": "X", "value": "1"}]
    assert _post(api, body).field == "computeEnv.config.environment[0]"
    body["computeEnv"]["config"]["environment"] = [{"name": "1X", "value": "1", "head": True}]
    assert _post(api, body).field == "computeEnv.config.environment[0].name"


# --- ARM64 and GPU -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forge", "field"),
    [
        ({"arm64Enabled": True, "instanceTypes": ["m6g", "m5.large"]}, f"{F}.instanceTypes[1]"),
        ({"arm64Enabled": True, "instanceTypes": ["optimal", "c7g"]}, f"{F}.instanceTypes[0]"),
        ({"instanceTypes": ["c5", "c7g.large"]}, f"{F}.instanceTypes[1]"),
        ({"gpuEnabled": True, "instanceTypes": ["m5", "c5.xlarge"]}, f"{F}.instanceTypes"),
        ({"gpuEnabled": True, "instanceTypes": ["g4ad"]}, f"{F}.instanceTypes"),
    ],
)
def test_instance_types_that_cannot_run_are_refused(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, forge_body, forge: dict, field: str
) -> None:
    """An arm64 ECS AMI boots only AWS Graviton types ("g" after the generation digit,
    https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html), ``optimal``
    is x86_64 C/M/R families (https://docs.aws.amazon.com/batch/latest/APIReference/
    API_ComputeResource.html), and a GPU environment needs an NVIDIA GPU family
    (https://docs.aws.amazon.com/batch/latest/userguide/batch-gpu-ami.html)."""
    error = _refused(api, app_ctx, aws, forge_body(**forge))
    assert error.field == field, error.message


def _forged_compute_envs(aws: LocalAws, ce_id: str) -> dict[str, dict]:
    batch = aws.boto_client("batch")
    found = batch.describe_compute_environments(
        computeEnvironments=[f"TowerForge-{ce_id}-head", f"TowerForge-{ce_id}-work"]
    )["computeEnvironments"]
    return {c["computeEnvironmentName"].rsplit("-", 1)[1]: c for c in found}


def _ssm_image(aws: LocalAws, parameter: str) -> str:
    return aws.boto_client("ssm").get_parameters(Names=[parameter])["Parameters"][0]["Value"]


def test_arm64_defaults_to_graviton_and_its_head_runs_x86(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    """Review finding 8: ``optimal`` is x86 only, and the launcher image (nextflow/nextflow)
    is amd64-only, so the head compute environment runs x86_64 instances on the x86_64 ECS
    AMI: ``ec2Configuration.imageIdOverride`` wins over the launch template's ImageId
    (https://docs.aws.amazon.com/batch/latest/userguide/ami-selection-order.html)."""
    ce_id = api.request(
        "POST", "/compute-envs", json=forge_body(arm64Enabled=True, instanceTypes=["optimal"])
    ).json()["computeEnvId"]
    forge_runner.run_pending(app_ctx)
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert env["status"] == "AVAILABLE", env["message"]
    types = env["config"]["forge"]["instanceTypes"]
    assert types and all(t in ("m7g", "c7g", "r7g", "m6g", "c6g", "r6g") for t in types)
    assert "Graviton" in env["message"]
    envs = _forged_compute_envs(aws, ce_id)
    assert envs["work"]["computeResources"]["instanceTypes"] == types
    assert envs["head"]["computeResources"]["instanceTypes"] == ["optimal"]
    x86 = _ssm_image(aws, AMI_PARAMETERS[("al2023", "x86_64")])
    arm = _ssm_image(aws, AMI_PARAMETERS[("al2023", "arm64")])
    assert envs["head"]["computeResources"]["ec2Configuration"] == [
        {"imageType": "ECS_AL2023", "imageIdOverride": x86}
    ]
    assert not envs["work"]["computeResources"].get("ec2Configuration")
    template = aws.boto_client("ec2").describe_launch_template_versions(
        LaunchTemplateName=f"TowerForge-{ce_id}"
    )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert template["ImageId"] == arm


def test_gpu_defaults_to_gpu_families_and_its_head_stays_ordinary(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    """Review finding 13: default types for GPU are NVIDIA GPU families (AWS Batch picks
    the GPU AMI for p3-p6 and g3-g6 families, batch-gpu-ami.html); the head job needs no
    GPU, so its compute environment uses ordinary instances on the standard AMI."""
    ce_id = api.request(
        "POST", "/compute-envs", json=forge_body(gpuEnabled=True, instanceTypes=[], type="EC2")
    ).json()["computeEnvId"]
    forge_runner.run_pending(app_ctx)
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert env["status"] == "AVAILABLE", env["message"]
    types = env["config"]["forge"]["instanceTypes"]
    assert types and set(types) <= {"g6", "g6e", "g5", "g4dn"}
    envs = _forged_compute_envs(aws, ce_id)
    assert envs["work"]["computeResources"]["instanceTypes"] == types
    assert envs["head"]["computeResources"]["instanceTypes"] == ["optimal"]
    x86 = _ssm_image(aws, AMI_PARAMETERS[("al2023", "x86_64")])
    override = envs["head"]["computeResources"]["ec2Configuration"][0]["imageIdOverride"]
    assert override == x86


# --- security groups and file systems ----------------------------------------------------


def _group(aws: LocalAws, network: Network, name: str, ingress: list[dict] | None = None) -> str:
    """A custom security group: egress to anywhere (EC2's default for a new group), inbound
    only ``ingress`` (each rule may use ``"self"`` as its source group)."""
    ec2 = aws.boto_client("ec2")
    group = ec2.create_security_group(GroupName=name, Description=name, VpcId=network.vpc)[
        "GroupId"
    ]
    rules = []
    for rule in ingress or []:
        rule = dict(rule)
        if rule.pop("self", False):
            rule["UserIdGroupPairs"] = [{"GroupId": group}]
        rules.append(rule)
    if rules:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rules)
    return group


@pytest.mark.parametrize(
    ("storage", "port"),
    [
        ({"efsCreate": True, "efsMount": "/mnt/efs"}, "TCP 2049"),
        ({"fsxSize": 1200, "fsxMount": "/fsx"}, "TCP 988"),
    ],
)
def test_an_egress_only_security_group_blocks_file_systems(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    network: Network,
    forge_body,
    storage: dict,
    port: str,
) -> None:
    """Review finding 10: EFS needs inbound TCP 2049 (https://docs.aws.amazon.com/efs/latest/
    ug/network-access.html), FSx for Lustre TCP 988 and 1018-1023 (https://docs.aws.amazon.com/
    fsx/latest/LustreGuide/limit-access-security-groups.html); otherwise the mounts hang at
    boot.  Preflight names the group and the missing rule before anything is created."""
    group = _group(aws, network, "egress-only")
    error = _refused(api, app_ctx, aws, forge_body(securityGroups=[group], **storage))
    assert error.field == f"{F}.securityGroups"
    assert port in error.message and group in error.message


def test_lustre_needs_the_1018_1023_range_too(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, network: Network, forge_body
) -> None:
    group = _group(
        aws,
        network,
        "lustre-988-only",
        [{"IpProtocol": "tcp", "FromPort": 988, "ToPort": 988, "self": True}],
    )
    body = forge_body(securityGroups=[group], fsxSize=1200, fsxMount="/fsx")
    error = _refused(api, app_ctx, aws, body)
    assert (
        "TCP 1018-1023" in error.message and "TCP 988" not in error.message.split("needs")[1][:20]
    )


@pytest.mark.parametrize(
    "ingress",
    [
        [{"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "self": True}],
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "IpRanges": [{"CidrIp": "172.31.0.0/16"}],
            }
        ],
        [{"IpProtocol": "-1", "self": True}],
    ],
)
def test_a_security_group_allowing_nfs_passes(
    api: BatchforgeClient,
    aws: LocalAws,
    rules: AwsRules,
    network: Network,
    forge_body,
    ingress: list[dict],
) -> None:
    """The rule may come from the group itself or from a CIDR covering the subnets."""
    group = _group(aws, network, "nfs-ok", ingress)
    body = forge_body(securityGroups=[group], efsCreate=True, efsMount="/mnt/efs")
    assert api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]


def test_a_cidr_that_does_not_cover_the_subnets_is_not_enough(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, network: Network, forge_body
) -> None:
    group = _group(
        aws,
        network,
        "nfs-narrow",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "IpRanges": [{"CidrIp": "10.0.0.0/24"}],
            }
        ],
    )
    body = forge_body(securityGroups=[group], efsCreate=True, efsMount="/mnt/efs")
    assert "TCP 2049" in _refused(api, app_ctx, aws, body).message


def test_a_security_group_without_egress_blocks_even_an_existing_file_system(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, network: Network, forge_body
) -> None:
    """Security groups are stateful but directional: the instances open the NFS/Lustre
    connections, so their groups need the ports outbound (https://docs.aws.amazon.com/vpc/
    latest/userguide/vpc-security-groups.html)."""
    group = _group(aws, network, "no-egress")
    ec2 = aws.boto_client("ec2")
    ec2.revoke_security_group_egress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    body = forge_body(securityGroups=[group], fsxMount="/fsx")
    body["computeEnv"]["config"]["lustreId"] = "fs-0123456789abcdef0"
    error = _refused(api, app_ctx, aws, body)
    assert error.field == f"{F}.securityGroups" and "outbound TCP 988" in error.message


def test_an_existing_file_system_gets_a_warning_about_its_own_group(
    api: BatchforgeClient, aws: LocalAws, rules: AwsRules, network: Network, forge_body
) -> None:
    """An existing EFS has its own mount-target security groups, which batchforge does not
    read: the inbound rule is the user's to check, so it is a warning, not an error."""
    group = _group(aws, network, "egress-only-existing")
    body = forge_body(securityGroups=[group], efsId="fs-0123456789abcdef0", efsMount="/mnt/efs")
    ce_id = api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert "must allow inbound TCP 2049" in env["message"]


def test_volumes_must_be_absolute_host_paths(api: BatchforgeClient, forge_body) -> None:
    """``volumes`` become ``aws.batch.volumes`` host paths mounted into the tasks
    (Nextflow's awsbatch ``aws.batch.volumes``: ``/host/path[:/container/path[:ro]]``)."""
    body = forge_body()
    body["computeEnv"]["config"]["volumes"] = ["/mnt/data", "relative/path"]
    assert _post(api, body).field == "computeEnv.config.volumes[1]"
