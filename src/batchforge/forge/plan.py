"""The resources a :class:`ForgeSpec` needs, in waves.

Resources in one wave do not depend on each other and are created concurrently; a wave starts
when the previous one is complete.  Disposal walks the waves backwards, so compute environments
go before the roles they use (a compute environment whose service role was deleted first is
stuck INVALID) and queues before their compute environments.
"""

from __future__ import annotations

from typing import Any

from batchforge.forge import ebs_autoscale
from batchforge.forge.resources.base import Resource
from batchforge.forge.spec import (
    BATCH_SERVICE_POLICY,
    ECS_INSTANCE_POLICY,
    ECS_TASK_EXECUTION_POLICY,
    SPOT_FLEET_POLICY,
    ForgeSpec,
)

# Jobs that can never run (e.g. asking for more CPUs than the CE allows) are cancelled
# instead of waiting in RUNNABLE forever.
TIME_LIMIT_ACTIONS = [
    {"reason": reason, "state": "RUNNABLE", "maxTimeSeconds": 600, "action": "CANCEL"}
    for reason in (
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    )
]


S3_WRITE_ACTIONS = [
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:GetBucketLocation",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:PutObjectTagging",
]
"""Nextflow's S3 file system in the work dir and allowed buckets: task files are written,
read, listed and cleaned up; big files go up in multipart uploads; ``resourceLabels`` /
``storageClass`` tag objects (nf-amazon ``S3Client``)."""

S3_READ_ACTIONS = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]
"""Read-only on every bucket: pipeline inputs may live in any bucket the user can name (public
reference data, other teams' buckets); Nextflow lists prefixes (ListObjects = s3:ListBucket),
reads objects and asks a bucket's region before using it."""


S3_READ_STATEMENT: dict[str, Any] = {
    "Sid": "S3ReadInputs",
    "Effect": "Allow",
    "Action": S3_READ_ACTIONS,
    "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"],
}


def _s3_policy(spec: ForgeSpec) -> dict[str, Any] | None:
    buckets = [b for b in (spec.work_bucket, *spec.allow_buckets) if b]
    if not buckets:
        return None
    resources = [f"arn:aws:s3:::{b}" for b in buckets] + [f"arn:aws:s3:::{b}/*" for b in buckets]
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(S3_WRITE_ACTIONS), "Resource": resources}],
    }


def _secrets_policy(spec: ForgeSpec) -> dict[str, Any]:
    """The execution role reads the run's secret copies (and decrypts them with the
    environment's own KMS key when one is set)."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": f"arn:aws:secretsmanager:{spec.region}:*:secret:tower-*",
        }
    ]
    key = spec.secrets_kms_key
    if key:
        decrypt: dict[str, Any] = {"Effect": "Allow", "Action": ["kms:Decrypt"]}
        alias = key.split(":")[-1] if ":alias/" in key or key.startswith("alias/") else None
        if alias:  # IAM sees the key, not the alias: match the key by its alias
            decrypt["Resource"] = f"arn:aws:kms:{spec.region}:*:key/*"
            decrypt["Condition"] = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}}
        elif key.startswith("arn:"):
            decrypt["Resource"] = key
        else:
            decrypt["Resource"] = f"arn:aws:kms:{spec.region}:*:key/{key}"
        statements.append(decrypt)
    return {"Version": "2012-10-17", "Statement": statements}


def _passable_roles(spec: ForgeSpec) -> list[str]:
    """Roles the head job hands to AWS Batch: the forged ones (the execution role, and the
    head-job role itself when Nextflow uses it for tasks) and any role the user gave for the
    tasks (``computeJobRole``, ``executionRole``)."""
    roles = [f"arn:aws:iam::*:role/{spec.prefix}{spec.ce_id}-*"]
    for given in (spec.compute_job_role, spec.execution_role):
        if given and given not in roles:
            roles.append(given)
    return roles


def _head_job_policy(spec: ForgeSpec) -> dict[str, Any]:
    """What the Nextflow head job does (nf-amazon 24.10.5 ``AwsBatchTaskHandler``,
    ``AwsBatchHelper``; Seqera's launch policy, seqeralabs/nf-tower-aws
    ``launch/launch-policy.json``): submit and watch task jobs, register their job
    definitions with the task roles, read task logs and instance metadata, read pipeline
    inputs anywhere in S3 and write the work dir."""
    log_group = spec.log_group or "/aws/batch/job"
    statements: list[dict[str, Any]] = [
        {
            # Queue -> compute environments -> ECS cluster (AwsBatchHelper), job status,
            # the job definition lookup by its nf-token before registering one.
            "Sid": "BatchDescribe",
            "Effect": "Allow",
            "Action": [
                "batch:DescribeJobQueues",
                "batch:DescribeJobs",
                "batch:DescribeJobDefinitions",
                "batch:DescribeComputeEnvironments",
                "batch:ListJobs",
            ],
            "Resource": "*",
        },
        {
            # Task jobs: register their definitions, submit (tagged with resourceLabels),
            # terminate on cancel or error.  Queues of this environment only.
            "Sid": "BatchTaskJobs",
            "Effect": "Allow",
            "Action": [
                "batch:SubmitJob",
                "batch:CancelJob",
                "batch:TerminateJob",
                "batch:RegisterJobDefinition",
                "batch:TagResource",
            ],
            "Resource": [
                f"arn:aws:batch:{spec.region}:*:job-queue/{spec.prefix}{spec.ce_id}-*",
                f"arn:aws:batch:{spec.region}:*:job-definition/*",
                f"arn:aws:batch:{spec.region}:*:job/*",
            ],
        },
        {
            # Instance metadata of each task for the trace (AwsBatchHelper
            # getCloudInfoByQueueAndTaskArn: ecs:DescribeTasks -> ecs:DescribeContainerInstances
            # -> ec2:DescribeInstances); ec2:DescribeInstanceTypes / DescribeInstanceAttribute /
            # DescribeInstanceStatus as in Seqera's launch policy (read-only).  None of these
            # can be scoped usefully (the cluster name has a random suffix; EC2 describes have
            # no resource-level permissions).  ec2:DescribeSpotInstanceRequests is granted by
            # neither Nextflow's needs nor Seqera's policy: left out.
            "Sid": "TaskInstanceMetadata",
            "Effect": "Allow",
            "Action": [
                "ecs:DescribeTasks",
                "ecs:DescribeContainerInstances",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeInstanceAttribute",
                "ec2:DescribeInstanceStatus",
            ],
            "Resource": "*",
        },
        {
            # A failed task's log (AwsBatchHelper.getTaskLogStream: logs:GetLogEvents on
            # aws.batch.logsGroup, default /aws/batch/job).
            "Sid": "TaskLogs",
            "Effect": "Allow",
            "Action": ["logs:GetLogEvents", "logs:DescribeLogStreams"],
            "Resource": [
                f"arn:aws:logs:{spec.region}:*:log-group:{log_group}",
                f"arn:aws:logs:{spec.region}:*:log-group:{log_group}:*",
            ],
        },
        {
            # RegisterJobDefinition with jobRoleArn / executionRoleArn hands the roles to AWS
            # Batch: iam:PassedToService is batch.amazonaws.com (seqeralabs/nf-tower-aws
            # "PassRolesToBatch"; IAM User Guide, id_roles_use_passrole).  Not ecs-tasks: no
            # call the head job makes hands a role to ECS directly.
            "Sid": "PassRolesToBatch",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": _passable_roles(spec),
            "Condition": {"StringEquals": {"iam:PassedToService": "batch.amazonaws.com"}},
        },
        S3_READ_STATEMENT,
    ]
    s3 = _s3_policy(spec)
    if s3:
        statements.extend({"Sid": "S3WorkDir", **st} for st in s3["Statement"])
    return {"Version": "2012-10-17", "Statement": statements}


def _role(
    key: str,
    spec: ForgeSpec,
    suffix: str,
    service: str,
    managed: list[str],
    inline: dict[str, Any] | None = None,
) -> Resource:
    return Resource(
        key=key,
        kind="iam-role",
        name=spec.name(suffix),
        wave=0,
        params={"service": service, "managed": managed, "inline": inline or {}},
    )


def _roles(spec: ForgeSpec) -> list[Resource]:
    # Tasks without a computeJobRole stage their inputs and outputs with the instance role
    # (the AWS CLI at cliPath in the task container): read anywhere, write the work dir and
    # the allowed buckets, as the head job.
    instance_inline: dict[str, Any] = {
        "batchforge-s3-read": {"Version": "2012-10-17", "Statement": [S3_READ_STATEMENT]}
    }
    s3 = _s3_policy(spec)
    if s3:
        instance_inline["batchforge-s3"] = s3
    if spec.ebs_auto_scale:
        # The EBS auto-scaling daemon creates and attaches volumes with the instance role.
        instance_inline["batchforge-ebs-autoscale"] = ebs_autoscale.instance_policy(spec)
    roles = [
        _role("service-role", spec, "ServiceRole", "batch.amazonaws.com", [BATCH_SERVICE_POLICY]),
        _role(
            "instance-role",
            spec,
            "InstanceRole",
            "ec2.amazonaws.com",
            [ECS_INSTANCE_POLICY],
            instance_inline,
        ),
        _role(
            "execution-role",
            spec,
            "ExecutionRole",
            "ecs-tasks.amazonaws.com",
            [ECS_TASK_EXECUTION_POLICY],
            {"batchforge-secrets": _secrets_policy(spec)},
        ),
    ]
    if spec.compute_type == "SPOT":
        roles.append(
            _role("fleet-role", spec, "FleetRole", "spotfleet.amazonaws.com", [SPOT_FLEET_POLICY])
        )
    if not spec.head_job_role:
        roles.append(
            _role(
                "head-job-role",
                spec,
                "HeadJobRole",
                "ecs-tasks.amazonaws.com",
                [],
                {"batchforge-head-job": _head_job_policy(spec)},
            )
        )
    return roles


def _storage(spec: ForgeSpec, subnet_zones: dict[str, str]) -> list[Resource]:
    items: list[Resource] = []
    if spec.efs_create:
        items.append(Resource(key="efs", kind="efs-file-system", name=spec.name("efs"), wave=0))
        seen_zones: set[str] = set()
        for subnet in spec.subnets:
            zone = subnet_zones.get(subnet, subnet)
            if zone in seen_zones:
                continue  # one mount target per availability zone
            seen_zones.add(zone)
            items.append(
                Resource(
                    key=f"efs-mount-{subnet}",
                    kind="efs-mount-target",
                    name=spec.name(f"efs-{subnet}"),
                    wave=1,
                    refs=("efs",),
                    params={
                        "file_system": "efs",
                        "subnet": subnet,
                        "security_groups": list(spec.security_groups),
                    },
                )
            )
    if spec.fsx_size and not spec.fsx_id:
        items.append(
            Resource(
                key="fsx",
                kind="fsx-file-system",
                name=spec.name("fsx"),
                wave=0,
                params={
                    "size_gb": spec.fsx_size,
                    "subnet": spec.subnets[0] if spec.subnets else "",
                    "security_groups": list(spec.security_groups),
                },
            )
        )
    return items


def _compute_resources(spec: ForgeSpec, head: bool) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "minvCpus": 0 if head else spec.min_cpus,
        "maxvCpus": max(spec.max_cpus, 4) if head else spec.max_cpus,
        "instanceTypes": list(spec.head_instance_types if head else spec.instance_types),
        "subnets": list(spec.subnets),
        "securityGroupIds": list(spec.security_groups),
    }
    if head or spec.compute_type == "EC2":
        resources["type"] = "EC2"
        resources["allocationStrategy"] = (
            "BEST_FIT_PROGRESSIVE" if head else (spec.alloc_strategy or "BEST_FIT_PROGRESSIVE")
        )
    else:
        resources["type"] = "SPOT"
        resources["allocationStrategy"] = spec.alloc_strategy or "SPOT_PRICE_CAPACITY_OPTIMIZED"
        if spec.bid_percentage:
            resources["bidPercentage"] = spec.bid_percentage
    if spec.ec2_key_pair:
        resources["ec2KeyPair"] = spec.ec2_key_pair
    return resources


def _batch(spec: ForgeSpec) -> list[Resource]:
    items: list[Resource] = []
    for role in ("head", "work"):
        head = role == "head"
        params: dict[str, Any] = {
            "compute_resources": _compute_resources(spec, head),
            "service_role": "service-role",
            "instance_profile": "instance-profile",
            "launch_template": "launch-template",
        }
        if not head and spec.compute_type == "SPOT":
            params["fleet_role"] = "fleet-role"
        if head and spec.head_ami_parameter:
            # ec2Configuration.imageIdOverride wins over the launch template's ImageId
            # (https://docs.aws.amazon.com/batch/latest/userguide/ami-selection-order.html).
            params["image_parameter"] = spec.head_ami_parameter
            params["image_type"] = spec.head_image_type
        items.append(
            Resource(
                key=f"ce-{role}",
                kind="batch-compute-environment",
                name=spec.name(role),
                wave=2,
                params=params,
            )
        )
        items.append(
            Resource(
                key=f"jq-{role}",
                kind="batch-job-queue",
                name=spec.name(role),
                wave=3,
                params={
                    "compute_environment": f"ce-{role}",
                    "priority": 1,
                    "time_limit_actions": TIME_LIMIT_ACTIONS,
                },
            )
        )
    return items


def launch_template(spec: ForgeSpec, image_id: str, user_data: str) -> Resource:
    data: dict[str, Any] = {"ImageId": image_id}
    if spec.ebs_boot_size:
        data["BlockDeviceMappings"] = [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {"VolumeSize": spec.ebs_boot_size, "VolumeType": "gp3", "Encrypted": True},
            }
        ]
    data["MetadataOptions"] = {"HttpTokens": "required", "HttpPutResponseHopLimit": 2}
    return Resource(
        key="launch-template",
        kind="launch-template",
        name=spec.name(),
        wave=1,
        params={"data": data, "user_data": user_data},
    )


def build_plan(spec: ForgeSpec, subnet_zones: dict[str, str] | None = None) -> list[Resource]:
    """Every resource except the launch template (which needs the AMI and file-system
    outputs; the engine adds it in wave 1).  Ordered by wave."""
    items = [*_roles(spec), *_storage(spec, subnet_zones or {})]
    items.append(
        Resource(
            key="instance-profile",
            kind="iam-instance-profile",
            name=spec.name("InstanceRole"),
            wave=1,
            refs=("instance-role",),
            params={"role": "instance-role", "role_name": spec.name("InstanceRole")},
        )
    )
    items.extend(_batch(spec))
    return sorted(items, key=lambda r: r.wave)
