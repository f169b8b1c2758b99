"""Drop-down data for creating an AWS Batch compute environment (``/platforms``).

Each list comes from a paginated AWS call, all of them concurrently; a list the credentials
may not read (the seed makes most of these permissions optional) is left empty with a
warning.  Answers are cached for a short while per (credentials, region).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from batchforge.aws.session import AwsSession, available_regions
from batchforge.errors import AwsError, InvalidInput
from batchforge.forge.spec import AMI_PARAMETERS
from batchforge.schemas.platforms import (
    AwsBatchPlatformMetainfo,
    Bucket,
    ComputePlatform,
    ComputeRegion,
    EfsFileSystem,
    FsxFileSystem,
    Image,
    JobQueue,
    SecurityGroup,
    Subnet,
    Vpc,
)
from batchforge.services.compute_envs import aws_session
from batchforge.services.compute_validation import REGION
from batchforge.services.context import AppContext

PLATFORMS = [ComputePlatform(id="aws-batch", name="AWS Batch", credentialsProviders=["aws"])]
ALLOC_STRATEGIES = [
    "BEST_FIT",
    "BEST_FIT_PROGRESSIVE",
    "SPOT_CAPACITY_OPTIMIZED",
    "SPOT_PRICE_CAPACITY_OPTIMIZED",
]
CACHE_SECONDS = 60.0

_cache: dict[tuple[str, str], tuple[float, AwsBatchPlatformMetainfo]] = {}
_cache_lock = threading.Lock()


def regions() -> list[ComputeRegion]:
    return [ComputeRegion(id=r, name=r) for r in available_regions("batch")]


def _vpcs(aws: AwsSession) -> dict[str, Any]:
    vpcs = [
        Vpc(id=v["VpcId"], isDefault=v.get("IsDefault", False))
        for page in aws.client("ec2").paginate("describe_vpcs")
        for v in page["Vpcs"]
    ]
    return {"vpcs": vpcs}


def _subnets(aws: AwsSession) -> dict[str, Any]:
    return {
        "subnets": [
            Subnet(id=s["SubnetId"], vpcId=s["VpcId"], zone=s.get("AvailabilityZone"))
            for page in aws.client("ec2").paginate("describe_subnets")
            for s in page["Subnets"]
        ]
    }


def _security_groups(aws: AwsSession) -> dict[str, Any]:
    return {
        "securityGroups": [
            SecurityGroup(id=g["GroupId"], name=g.get("GroupName"), vpcId=g.get("VpcId"))
            for page in aws.client("ec2").paginate("describe_security_groups")
            for g in page["SecurityGroups"]
        ]
    }


def _key_pairs(aws: AwsSession) -> dict[str, Any]:
    pairs = aws.client("ec2").describe_key_pairs()["KeyPairs"]
    return {"keyPairs": sorted(p["KeyName"] for p in pairs)}


def _instance_families(aws: AwsSession) -> dict[str, Any]:
    families: set[str] = set()
    for page in aws.client("ec2").paginate(
        "describe_instance_type_offerings", LocationType="region"
    ):
        families.update(o["InstanceType"].split(".")[0] for o in page["InstanceTypeOfferings"])
    return {"instanceFamilies": sorted(families)}


def _buckets(aws: AwsSession) -> dict[str, Any]:
    buckets = aws.client("s3").list_buckets().get("Buckets", [])
    return {"buckets": [Bucket(path=f"s3://{b['Name']}") for b in buckets]}


def _efs(aws: AwsSession) -> dict[str, Any]:
    return {
        "efsFileSystems": [
            EfsFileSystem(id=f["FileSystemId"])
            for page in aws.client("efs").paginate("describe_file_systems")
            for f in page["FileSystems"]
        ]
    }


def _fsx(aws: AwsSession) -> dict[str, Any]:
    systems = []
    for page in aws.client("fsx").paginate("describe_file_systems"):
        for system in page["FileSystems"]:
            mount = system.get("LustreConfiguration", {}).get("MountName")
            systems.append(
                FsxFileSystem(id=system["FileSystemId"], dns=system.get("DNSName"), mount=mount)
            )
    return {"fileSystems": systems}


def _queues(aws: AwsSession) -> dict[str, Any]:
    return {
        "jobQueues": [
            JobQueue(name=q["jobQueueName"], state=q.get("state", ""))
            for page in aws.client("batch").paginate("describe_job_queues")
            for q in page["jobQueues"]
        ]
    }


def _images(aws: AwsSession) -> dict[str, Any]:
    names = list(AMI_PARAMETERS.values())
    found = aws.client("ssm").get_parameters(Names=names).get("Parameters", [])
    images = []
    for parameter in found:
        name = parameter["Name"]
        arch = "arm64" if "arm64" in name else "x86_64"
        family = "Amazon Linux 2023" if "amazon-linux-2023" in name else "Amazon Linux 2"
        variant = " GPU" if "/gpu/" in name else ""
        images.append(
            Image(
                id=parameter["Value"],
                name=f"ECS-optimized {family}{variant}",
                description=name,
                arch=arch,
            )
        )
    return {"images": images}


LOOKUPS: dict[str, Callable[[AwsSession], dict[str, Any]]] = {
    "VPCs": _vpcs,
    "subnets": _subnets,
    "security groups": _security_groups,
    "key pairs": _key_pairs,
    "instance types": _instance_families,
    "buckets": _buckets,
    "EFS file systems": _efs,
    "FSx file systems": _fsx,
    "job queues": _queues,
    "ECS-optimized images": _images,
}


def describe(
    ctx: AppContext, workspace_id: int, credentials_id: str | None, region: str | None
) -> AwsBatchPlatformMetainfo:
    if not credentials_id:
        raise InvalidInput(
            "credentialsId is required to list AWS resources.", field="credentialsId"
        )
    if not region:
        raise InvalidInput("regionId is required.", field="regionId")
    if not REGION.match(region):
        raise InvalidInput("regionId: not an AWS region name (like us-east-1).", field="regionId")
    key = (credentials_id, region)
    with _cache_lock:
        hit = _cache.get(key)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    aws = aws_session(ctx, workspace_id, credentials_id, region)
    fields: dict[str, Any] = {"allocStrategy": ALLOC_STRATEGIES, "warnings": []}
    with ThreadPoolExecutor(max_workers=len(LOOKUPS)) as pool:
        futures = {what: pool.submit(lookup, aws) for what, lookup in LOOKUPS.items()}
    for what, future in futures.items():
        try:
            fields.update(future.result())
        except AwsError as error:
            fields["warnings"].append(
                f"Could not list {what}: {error.aws_code} on {error.service}:{error.operation}."
            )
    info = AwsBatchPlatformMetainfo(**fields)
    with _cache_lock:
        _cache[key] = (time.monotonic(), info)
    return info
