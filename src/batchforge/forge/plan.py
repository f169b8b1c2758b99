"""The resources a :class:`ForgeSpec` needs, in waves.

Resources in one wave do not depend on each other and are created concurrently; a wave starts
when the previous one is complete.  Disposal walks the waves backwards, so compute environments
go before the roles they use (a compute environment whose service role was deleted first is
stuck INVALID) and queues before their compute environments.
"""

from __future__ import annotations

from typing import Any

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


def _s3_policy(spec: ForgeSpec) -> dict[str, Any] | None:
    buckets = [b for b in (spec.work_bucket, *spec.allow_buckets) if b]
    if not buckets:
        return None
    resources = [f"arn:aws:s3:::{b}" for b in buckets] + [f"arn:aws:s3:::{b}/*" for b in buckets]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "s3:ListBucket",
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:GetBucketLocation",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                    "s3:PutObjectTagging",
                ],
                "Resource": resources,
            }
        ],
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


def _head_job_policy(spec: ForgeSpec) -> dict[str, Any]:
    """What the Nextflow head job does: submit and watch task jobs, read/write the work dir,
    read logs, pass the forged roles to its jobs."""
    statements: list[dict[str, Any]] = [
        {
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
            "Effect": "Allow",
            "Action": [
                "batch:SubmitJob",
                "batch:CancelJob",
                "batch:TerminateJob",
                "batch:RegisterJobDefinition",
                "batch:TagResource",
            ],
            "Resource": [
                f"arn:aws:batch:{spec.region}:*:job-queue/{spec.prefix}*",
                f"arn:aws:batch:{spec.region}:*:job-definition/*",
                f"arn:aws:batch:{spec.region}:*:job/*",
            ],
        },
        {
            "Effect": "Allow",
            "Action": ["logs:GetLogEvents", "logs:DescribeLogStreams"],
            "Resource": f"arn:aws:logs:{spec.region}:*:log-group:/aws/batch/job*",
        },
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": f"arn:aws:iam::*:role/{spec.prefix}*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
    ]
    s3 = _s3_policy(spec)
    if s3:
        statements.extend(s3["Statement"])
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
    instance_inline: dict[str, Any] = {}
    s3 = _s3_policy(spec)
    if s3:
        instance_inline["batchforge-s3"] = s3
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
