"""Checks against AWS before a compute environment is created.  Nothing is created here.

A failed check raises :class:`InvalidInput` naming the field and the fix.  A check that the
credentials may not run (an optional permission the seed policy makes optional, such as
``ec2:DescribeSubnets``) is skipped with a warning instead of failing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from batchforge.aws.session import AwsSession
from batchforge.errors import AwsAccessDenied, AwsError, InvalidInput
from batchforge.schemas.compute_envs import AwsBatchConfig, ForgeConfig
from batchforge.services import compute_validation

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
    subnet_cidrs: dict[str, str] = field(default_factory=dict)
    security_groups: list[dict[str, Any]] = field(default_factory=list)
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
            if subnet.get("CidrBlock"):
                result.subnet_cidrs[subnet["SubnetId"]] = subnet["CidrBlock"]
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
        result.security_groups = list(groups["SecurityGroups"])
        for group in groups["SecurityGroups"]:
            if forge.vpcId and group.get("VpcId") != forge.vpcId:
                raise _bad(
                    f"{F}.securityGroups",
                    f"security group {group['GroupId']} belongs "
                    f"to {group.get('VpcId')}, not to {forge.vpcId}.",
                )


def offered_types(aws: AwsSession) -> set[str]:
    """Every instance type the region offers.  Listed whole (one or two pages) rather than
    filtered by ``m5.*``-style wildcards, which the emulator does not implement."""
    offered: set[str] = set()
    for page in aws.client("ec2").paginate(
        "describe_instance_type_offerings", LocationType="region"
    ):
        offered.update(o["InstanceType"] for o in page["InstanceTypeOfferings"])
    return offered


def check_instance_types(aws: AwsSession, forge: ForgeConfig, region: str) -> None:
    wanted = [(i, t) for i, t in enumerate(forge.instanceTypes) if t != "optimal"]
    if not wanted:
        return
    offered = offered_types(aws)
    families = {o.split(".")[0] for o in offered}
    for index, wanted_type in wanted:
        if wanted_type not in (offered if "." in wanted_type else families):
            raise _bad(f"{F}.instanceTypes[{index}]", f"{wanted_type} is not offered in {region}.")


def resolve_instance_types(
    aws: AwsSession, forge: ForgeConfig, region: str, result: Preflight
) -> ForgeConfig:
    """ARM64 and GPU environments left on the default types get Graviton / NVIDIA GPU
    families (``optimal`` is x86_64 C/M/R only), those the region offers."""
    defaults = compute_validation.default_instance_types(forge)
    if defaults is None or not compute_validation.uses_default_types(forge):
        return forge
    kind = "ARM64 (Graviton)" if forge.arm64Enabled else "NVIDIA GPU"
    try:
        offered = {o.split(".")[0] for o in offered_types(aws)}
        chosen = [f for f in defaults if f in offered]
    except AwsAccessDenied:
        chosen = list(defaults)
        result.warnings.append(
            f"Could not check which {kind} families {region} offers "
            "(ec2:DescribeInstanceTypeOfferings denied): using all defaults."
        )
    if not chosen:
        raise _bad(
            f"{F}.instanceTypes",
            f"none of the default {kind} families ({', '.join(defaults)}) is offered in "
            f"{region}: choose instance types.",
        )
    result.warnings.append(f"Instance types chosen for {kind}: {', '.join(chosen)}.")
    return forge.model_copy(update={"instanceTypes": chosen})


# Ports the instances must reach on the file systems' network interfaces: NFS for EFS
# (https://docs.aws.amazon.com/efs/latest/ug/network-access.html), Lustre for FSx
# (https://docs.aws.amazon.com/fsx/latest/LustreGuide/limit-access-security-groups.html).
EFS_PORTS = ((2049, 2049),)
LUSTRE_PORTS = ((988, 988), (1018, 1023))


def _covers(rule: dict[str, Any], low: int, high: int) -> bool:
    protocol = str(rule.get("IpProtocol", ""))
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    return int(rule.get("FromPort", -1)) <= low and high <= int(rule.get("ToPort", -1))


def _within(cidr: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        inner = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return inner.version == network.version and inner.subnet_of(network)  # type: ignore[arg-type]


def _peer_ok(rule: dict[str, Any], groups: set[str], cidrs: list[str]) -> bool:
    """The rule's peer is one of ``groups`` or a CIDR covering every subnet in ``cidrs``."""
    if any(pair.get("GroupId") in groups for pair in rule.get("UserIdGroupPairs", [])):
        return True
    for item in rule.get("IpRanges", []):
        try:
            network = ipaddress.ip_network(item.get("CidrIp", ""), strict=False)
        except ValueError:
            continue
        if network.prefixlen == 0 or (cidrs and all(_within(cidr, network) for cidr in cidrs)):
            return True
    return False


def _missing(
    rules: Iterable[dict[str, Any]],
    ports: tuple[tuple[int, int], ...],
    groups: set[str],
    cidrs: list[str],
) -> list[tuple[int, int]]:
    rules = list(rules)
    return [
        (low, high)
        for low, high in ports
        if not any(_covers(r, low, high) and _peer_ok(r, groups, cidrs) for r in rules)
    ]


def _ports_text(ports: list[tuple[int, int]]) -> str:
    return ", ".join(f"TCP {lo}" if lo == hi else f"TCP {lo}-{hi}" for lo, hi in ports)


def check_file_system_ports(
    aws: AwsSession, config: AwsBatchConfig, forge: ForgeConfig, result: Preflight
) -> None:
    """The Batch security groups must let the instances reach EFS (TCP 2049) and FSx for
    Lustre (TCP 988, 1018-1023), or the mounts hang at boot.  File systems Forge creates get
    the same security groups, so those need the ports inbound from the groups themselves (or
    from a CIDR covering the subnets); every file system needs them outbound."""
    needs: list[tuple[str, tuple[tuple[int, int], ...], bool]] = []
    if forge.efsCreate or forge.efsId:
        needs.append(("EFS (NFS)", EFS_PORTS, forge.efsCreate))
    if forge.fsxSize or forge.fsxName or config.lustreId:
        created = bool(forge.fsxSize and not (forge.fsxName or config.lustreId))
        needs.append(("FSx for Lustre", LUSTRE_PORTS, created))
    if not needs or not forge.securityGroups:
        return
    groups = (
        result.security_groups
        or aws.client("ec2").describe_security_groups(GroupIds=list(forge.securityGroups))[
            "SecurityGroups"
        ]
    )
    ids = {g["GroupId"] for g in groups}
    cidrs = [result.subnet_cidrs[s] for s in forge.subnets if s in result.subnet_cidrs]
    inbound = [r for g in groups for r in g.get("IpPermissions", [])]
    outbound = [r for g in groups for r in g.get("IpPermissionsEgress", [])]
    names = ", ".join(sorted(ids))
    peers = f"from {names}" + (" (or a CIDR covering the subnets)" if cidrs else "")
    for what, ports, created in needs:
        missing = _missing(inbound, ports, ids, cidrs) if created else []
        if missing:
            raise _bad(
                f"{F}.securityGroups",
                f"{what} needs inbound {_ports_text(missing)} {peers}; security groups "
                f"{names} do not allow it, so the mount would hang at boot. Add an inbound "
                f"rule {_ports_text(missing)} with source {sorted(ids)[0]} (batchforge "
                "cannot change security groups: the seed policy grants no "
                "ec2:AuthorizeSecurityGroupIngress).",
            )
        missing = _missing(outbound, ports, ids, cidrs)
        if missing:
            raise _bad(
                f"{F}.securityGroups",
                f"{what} needs outbound {_ports_text(missing)} to the file system; security "
                f"groups {names} do not allow it. Add an outbound rule.",
            )
        if not created:
            result.warnings.append(
                f"The existing {what} file system's own security group must allow inbound "
                f"{_ports_text(list(ports))} {peers}."
            )


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
    result.optional(
        "file-system ports", lambda: check_file_system_ports(aws, config, forge, result)
    )
    result.optional("instance types", lambda: check_instance_types(aws, forge, config.region or ""))
    forge = result.forge = resolve_instance_types(aws, forge, config.region or "", result)
    result.optional("the key pair", lambda: check_key_pair(aws, forge))
    return result
