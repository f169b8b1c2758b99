"""Checks against AWS before a compute environment is created.  Nothing is created here.

A failed check raises :class:`InvalidInput` naming the field and the fix.  A check that the
credentials may not run (an optional permission the seed policy makes optional, such as
``ec2:DescribeSubnets``) is skipped with a warning instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from batchforge.aws.session import AwsSession
from batchforge.errors import AwsAccessDenied, AwsError, InvalidInput
from batchforge.schemas.compute_envs import AwsBatchConfig, ForgeConfig

QUEUE_QUOTA = 50  # job queues per account and region
CE_QUOTA = 50  # compute environments per account and region
FORGED_PER_ENV = 2  # Forge makes a head and a work queue/compute environment

C = "computeEnv.config"
F = f"{C}.forge"


@dataclass
class Preflight:
    """What the checks learned: subnet → availability zone, the network chosen when the
    request left it open, and warnings."""

    subnet_zones: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    forge: ForgeConfig | None = None

    def optional(self, what: str, check: Callable[[], None]) -> None:
        """Run a check whose permission is optional; AccessDenied becomes a warning."""
        try:
            check()
        except AwsAccessDenied as denied:
            self.warnings.append(
                f"Could not check {what}: {denied.aws_code} on {denied.service}:{denied.operation}."
            )


def _bad(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{field}: {reason}", field=field)


def check_quotas(aws: AwsSession) -> None:
    batch = aws.client("batch")
    environments = sum(
        len(p["computeEnvironments"]) for p in batch.paginate("describe_compute_environments")
    )
    queues = sum(len(p["jobQueues"]) for p in batch.paginate("describe_job_queues"))
    if environments + FORGED_PER_ENV > CE_QUOTA:
        raise _bad(
            f"{C}.forge",
            f"the account has {environments} of {CE_QUOTA} AWS Batch compute "
            f"environments in this region and Forge needs {FORGED_PER_ENV}: delete unused "
            "ones or ask AWS for a higher quota.",
        )
    if queues + FORGED_PER_ENV > QUEUE_QUOTA:
        raise _bad(
            f"{C}.forge",
            f"the account has {queues} of {QUEUE_QUOTA} AWS Batch job queues "
            f"in this region and Forge needs {FORGED_PER_ENV}: delete unused ones or ask "
            "AWS for a higher quota.",
        )


def check_work_dir(aws: AwsSession, config: AwsBatchConfig) -> None:
    work_dir = config.workDir or ""
    if not work_dir.startswith("s3://"):
        return
    bucket = work_dir[5:].split("/", 1)[0]
    try:
        location = aws.client("s3").get_bucket_location(Bucket=bucket)
    except AwsError as error:
        if error.aws_code in ("NoSuchBucket", "NotFound"):
            raise _bad(f"{C}.workDir", f"bucket '{bucket}' does not exist.") from None
        if isinstance(error, AwsAccessDenied):
            raise _bad(
                f"{C}.workDir",
                f"the credentials cannot reach bucket '{bucket}' "
                "(s3:GetBucketLocation denied): grant it on the bucket.",
            ) from None
        raise
    region = location.get("LocationConstraint") or "us-east-1"
    region = "eu-west-1" if region == "EU" else region
    if region != config.region:
        raise _bad(
            f"{C}.workDir",
            f"bucket '{bucket}' is in {region}, the environment in "
            f"{config.region}: use a bucket in {config.region}.",
        )


def check_network(aws: AwsSession, forge: ForgeConfig, result: Preflight) -> None:
    ec2 = aws.client("ec2")
    if forge.subnets:
        try:
            subnets = ec2.describe_subnets(SubnetIds=list(forge.subnets))["Subnets"]
        except AwsError as error:
            if error.aws_code and error.aws_code.startswith("InvalidSubnet"):
                raise _bad(f"{F}.subnets", f"{error.aws_message or 'unknown subnet'}.") from None
            raise
        for subnet in subnets:
            result.subnet_zones[subnet["SubnetId"]] = subnet.get("AvailabilityZone", "")
            if forge.vpcId and subnet["VpcId"] != forge.vpcId:
                raise _bad(
                    f"{F}.subnets",
                    f"subnet {subnet['SubnetId']} belongs to "
                    f"{subnet['VpcId']}, not to {forge.vpcId}.",
                )
    if forge.securityGroups:
        try:
            groups = ec2.describe_security_groups(GroupIds=list(forge.securityGroups))
        except AwsError as error:
            if error.aws_code and error.aws_code.startswith("InvalidGroup"):
                raise _bad(
                    f"{F}.securityGroups", f"{error.aws_message or 'unknown group'}."
                ) from None
            raise
        for group in groups["SecurityGroups"]:
            if forge.vpcId and group.get("VpcId") != forge.vpcId:
                raise _bad(
                    f"{F}.securityGroups",
                    f"security group {group['GroupId']} belongs "
                    f"to {group.get('VpcId')}, not to {forge.vpcId}.",
                )


def check_instance_types(aws: AwsSession, forge: ForgeConfig, region: str) -> None:
    wanted = [t for t in forge.instanceTypes if t != "optimal"]
    if not wanted:
        return
    values = [t if "." in t else f"{t}.*" for t in wanted]
    offered: set[str] = set()
    for page in aws.client("ec2").paginate(
        "describe_instance_type_offerings",
        LocationType="region",
        Filters=[{"Name": "instance-type", "Values": values}],
    ):
        offered.update(o["InstanceType"] for o in page["InstanceTypeOfferings"])
    for index, wanted_type in enumerate(wanted):
        family = wanted_type if "." not in wanted_type else None
        found = (
            any(o.split(".")[0] == family for o in offered) if family else wanted_type in offered
        )
        if not found:
            raise _bad(f"{F}.instanceTypes[{index}]", f"{wanted_type} is not offered in {region}.")


def check_key_pair(aws: AwsSession, forge: ForgeConfig) -> None:
    if not forge.ec2KeyPair:
        return
    try:
        aws.client("ec2").describe_key_pairs(KeyNames=[forge.ec2KeyPair])
    except AwsError as error:
        if error.aws_code == "InvalidKeyPair.NotFound":
            raise _bad(
                f"{F}.ec2KeyPair", f"key pair '{forge.ec2KeyPair}' does not exist."
            ) from None
        raise


def check_manual_queues(aws: AwsSession, config: AwsBatchConfig) -> None:
    names = [q for q in (config.headQueue, config.computeQueue) if q]
    found: dict[str, dict[str, Any]] = {}
    for queue in aws.client("batch").describe_job_queues(jobQueues=names)["jobQueues"]:
        found[queue["jobQueueName"]] = queue
        found[queue["jobQueueArn"]] = queue
    for field_name, name in (
        ("headQueue", config.headQueue),
        ("computeQueue", config.computeQueue),
    ):
        if not name:
            continue
        queue = found.get(name)
        if queue is None:
            raise _bad(
                f"{C}.{field_name}", f"job queue '{name}' does not exist in {config.region}."
            )
        if queue.get("state") != "ENABLED" or queue.get("status") != "VALID":
            raise _bad(
                f"{C}.{field_name}",
                f"job queue '{name}' is {queue.get('state')}/"
                f"{queue.get('status')}; it must be ENABLED and VALID.",
            )


def resolve_network(aws: AwsSession, forge: ForgeConfig, result: Preflight) -> ForgeConfig:
    """Fill what the request left open, as the console does: the default VPC, its subnets and
    its default security group (AWS Batch needs subnets and at least one security group)."""
    if forge.subnets and forge.securityGroups:
        return forge
    ec2 = aws.client("ec2")
    try:
        vpc_id = forge.vpcId
        if vpc_id is None:
            defaults = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
            if not defaults["Vpcs"]:
                raise _bad(
                    f"{F}.vpcId",
                    "the region has no default VPC: choose a VPC, subnets and security groups.",
                )
            vpc_id = defaults["Vpcs"][0]["VpcId"]
        chosen: dict[str, object] = {"vpcId": vpc_id}
        if not forge.subnets:
            subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
            chosen["subnets"] = sorted(s["SubnetId"] for s in subnets["Subnets"])
            if not chosen["subnets"]:
                raise _bad(f"{F}.subnets", f"{vpc_id} has no subnets: choose a VPC with subnets.")
        if not forge.securityGroups:
            groups = ec2.describe_security_groups(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "group-name", "Values": ["default"]},
                ]
            )["SecurityGroups"]
            if not groups:
                raise _bad(
                    f"{F}.securityGroups", f"{vpc_id} has no default security group: choose one."
                )
            chosen["securityGroups"] = [groups[0]["GroupId"]]
    except AwsAccessDenied:
        raise _bad(
            f"{F}.subnets",
            "give subnets and security groups: the credentials may not "
            "look them up (ec2:DescribeVpcs/DescribeSubnets/DescribeSecurityGroups).",
        ) from None
    result.warnings.append(
        f"Network chosen automatically: {vpc_id} with its default security "
        "group" + (" and all its subnets." if not forge.subnets else ".")
    )
    return forge.model_copy(update=chosen)


def run_preflight(aws: AwsSession, config: AwsBatchConfig) -> Preflight:
    """Every check for ``config`` (Forge or manual).  Raises on the first blocking problem."""
    result = Preflight()
    forge = config.forge
    check_work_dir(aws, config)
    if forge is None:
        check_manual_queues(aws, config)
        return result
    check_quotas(aws)
    forge = result.forge = resolve_network(aws, forge, result)
    result.optional("subnets and security groups", lambda: check_network(aws, forge, result))
    result.optional("instance types", lambda: check_instance_types(aws, forge, config.region or ""))
    result.optional("the key pair", lambda: check_key_pair(aws, forge))
    return result
