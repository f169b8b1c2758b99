"""The compute environment form: defaults, the drop-down data, and the request it builds.

Field names are the API's (``maxCpus``, ``subnets``…) except where the UI asks one question
for several API fields: ``mode`` (forge / manual), ``efs`` (none / create / an EFS id), ``fsx``
(none / create / an FSx id) and ``labels`` (``name=value`` resource labels, made on create).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from batchforge.errors import BatchforgeError
from batchforge.forge.spec import DEFAULT_EBS_BLOCK_SIZE
from batchforge.schemas.compute_envs import AwsBatchConfig, ComputeEnvIn, ForgeConfig
from batchforge.schemas.labels import CreateLabelRequest
from batchforge.schemas.platforms import AwsBatchPlatformMetainfo
from batchforge.services import credentials, labels, platforms
from batchforge.services.context import AppContext
from batchforge.web.forms import FormState, fail_validation

MULTI = ("instanceTypes", "subnets", "securityGroups", "allowBuckets")
FIELDS = [
    "name",
    "description",
    "credentialsId",
    "region",
    "mode",
    "workDir",
    "type",
    "minCpus",
    "maxCpus",
    "instanceTypes",
    "allocStrategy",
    "bidPercentage",
    "vpcId",
    "subnets",
    "securityGroups",
    "ec2KeyPair",
    "amiFamily",
    "imageId",
    "gpuEnabled",
    "arm64Enabled",
    "ebsBootSize",
    "ebsAutoScale",
    "ebsBlockSize",
    "efs",
    "efsMount",
    "fsx",
    "fsxSize",
    "fsxMount",
    "allowBuckets",
    "disposeOnDeletion",
    "headQueue",
    "computeQueue",
    "headJobRole",
    "computeJobRole",
    "executionRole",
    "nextflowConfig",
    "preRunScript",
    "postRunScript",
    "labels",
    "headJobCpus",
    "headJobMemoryMb",
]
ALIASES = {
    "efsId": "efs",
    "efsCreate": "efs",
    "fsxName": "fsx",
    "lustreId": "fsx",
    "labelIds": "labels",
}
LABEL = re.compile(r"^\s*([^=]+?)\s*=\s*(.*?)\s*$")


def defaults(ctx: AppContext, workspace_id: int) -> FormState:
    """A new form: Forge, SPOT, 0-256 CPUs, dispose on deletion, EBS auto-scaling of Docker's
    storage in blocks of 50 GiB (``tw``'s and the CLI's default), the first credentials."""
    found = credentials.list_all(ctx, workspace_id)
    return FormState(
        values={
            "mode": "forge",
            "credentialsId": found[0].id if found else "",
            "region": ctx.settings.default_region,
            "type": "SPOT",
            "minCpus": "0",
            "maxCpus": "256",
            "amiFamily": "al2023",
            "efs": "none",
            "fsx": "none",
            "disposeOnDeletion": "on",
            "ebsAutoScale": "on",
            "ebsBlockSize": str(DEFAULT_EBS_BLOCK_SIZE),
        }
    )


@dataclass
class Resources:
    """The drop-down data of one (credentials, region); ``problem`` when it could not load."""

    info: AwsBatchPlatformMetainfo | None = None
    problem: str | None = None
    regions: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> bool:
        return self.info is not None

    def vpcs(self) -> list[tuple[str, str]]:
        if self.info is None:
            return []
        return [(v.id, f"{v.id} (default)" if v.isDefault else v.id) for v in self.info.vpcs]

    def subnets(self) -> list[dict[str, str]]:
        if self.info is None:
            return []
        return [
            {"value": s.id, "label": f"{s.id} · {s.zone or '?'}", "vpc": s.vpcId}
            for s in self.info.subnets
        ]

    def security_groups(self) -> list[dict[str, str]]:
        if self.info is None:
            return []
        return [
            {"value": g.id, "label": f"{g.id} · {g.name or ''}", "vpc": g.vpcId or ""}
            for g in self.info.securityGroups
        ]

    def buckets(self) -> list[str]:
        return [b.path for b in self.info.buckets] if self.info else []

    def work_dirs(self) -> list[str]:
        return [f"{path}/work" for path in self.buckets()]

    def instance_types(self) -> list[tuple[str, str]]:
        families = self.info.instanceFamilies if self.info else []
        return [("optimal", "optimal (AWS chooses)")] + [(f, f) for f in families]

    def queues(self) -> list[tuple[str, str]]:
        if self.info is None:
            return []
        return [(q.name, f"{q.name} ({q.state})") for q in self.info.jobQueues]


def load_resources(
    ctx: AppContext, workspace_id: int, credentials_id: str, region: str
) -> Resources:
    """The drop-down data; AWS problems are reported, not raised (the form still works with
    typed values)."""
    found = Resources(regions=[r.id for r in platforms.regions()])
    if not credentials_id or not region:
        found.problem = "Choose credentials and a region to list their AWS resources."
        return found
    try:
        found.info = platforms.describe(ctx, workspace_id, credentials_id, region)
    except BatchforgeError as problem:
        found.problem = f"Could not list AWS resources: {problem.message}"
    return found


def _items(state: FormState, name: str) -> list[str]:
    """A multi-valued field, from a multi-select or a comma/space-separated text field."""
    return [w for value in state.many(name) for w in re.split(r"[,\s]+", value) if w]


def resource_tags(state: FormState) -> dict[str, str]:
    """The ``labels`` field (``name=value, …``) as AWS tags; a field error when malformed."""
    tags: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in state.get("labels").split(","))):
        match = LABEL.match(item)
        if not match or not labels.TAG_TEXT.match(match.group(1) + match.group(2)):
            state.errors["labels"] = (
                f"'{item}' is not a resource label: use name=value, letters, digits, "
                "spaces and _.:/=+-@ only."
            )
            return {}
        tags[match.group(1)] = match.group(2)
    return tags


def ensure_labels(ctx: AppContext, workspace_id: int, tags: dict[str, str]) -> list[int]:
    """The ids of resource labels ``name=value``, created when missing (as the CLI does)."""
    existing = {(x.name, x.value): x.id for x in labels.list_all(ctx, workspace_id) if x.resource}
    ids = []
    for name, value in tags.items():
        found = existing.get((name, value))
        if found is None:
            body = CreateLabelRequest(name=name, value=value, resource=True)
            found = labels.create(ctx, workspace_id, body).id
        ids.append(found)
    return ids


def _forge(state: FormState) -> ForgeConfig:
    efs, fsx = state.get("efs") or "none", state.get("fsx") or "none"
    # The block size only goes with auto-scaling (the API refuses it alone); the field is
    # hidden, not emptied, when the box is unticked.
    auto_scale = state.checked("ebsAutoScale")
    return ForgeConfig(
        type=state.optional("type"),  # type: ignore[arg-type]
        minCpus=state.number("minCpus", "Minimum CPUs"),
        maxCpus=state.number("maxCpus", "Maximum CPUs"),
        instanceTypes=_items(state, "instanceTypes"),
        allocStrategy=state.optional("allocStrategy"),  # type: ignore[arg-type]
        bidPercentage=state.number("bidPercentage", "Bid percentage"),
        vpcId=state.optional("vpcId"),
        subnets=_items(state, "subnets"),
        securityGroups=_items(state, "securityGroups"),
        ec2KeyPair=state.optional("ec2KeyPair"),
        amiFamily=state.get("amiFamily") or "al2023",  # type: ignore[arg-type]
        imageId=state.optional("imageId"),
        gpuEnabled=state.checked("gpuEnabled"),
        arm64Enabled=state.checked("arm64Enabled"),
        ebsBootSize=state.number("ebsBootSize", "Boot disk size"),
        ebsAutoScale=auto_scale,
        ebsBlockSize=state.number("ebsBlockSize", "EBS block size") if auto_scale else None,
        efsCreate=efs == "create",
        efsId=efs if efs not in ("none", "create") else None,
        efsMount=state.optional("efsMount") if efs != "none" else None,
        fsxSize=state.number("fsxSize", "FSx size") if fsx == "create" else None,
        fsxMount=state.optional("fsxMount") if fsx != "none" else None,
        allowBuckets=_items(state, "allowBuckets"),
        disposeOnDeletion=state.checked("disposeOnDeletion"),
    )


def build_request(state: FormState) -> ComputeEnvIn | None:
    """The API request the form describes; None (with field errors on ``state``) when a
    value cannot even be read (a number that is not one)."""
    forge = state.get("mode", "forge") != "manual"
    fsx = state.get("fsx") or "none"
    try:
        config = AwsBatchConfig(
            region=state.optional("region"),
            workDir=state.optional("workDir"),
            forge=_forge(state) if forge else None,
            headQueue=None if forge else state.optional("headQueue"),
            computeQueue=None if forge else state.optional("computeQueue"),
            headJobRole=state.optional("headJobRole"),
            computeJobRole=None if forge else state.optional("computeJobRole"),
            executionRole=None if forge else state.optional("executionRole"),
            headJobCpus=state.number("headJobCpus", "Head job CPUs"),
            headJobMemoryMb=state.number("headJobMemoryMb", "Head job memory"),
            lustreId=fsx if forge and fsx not in ("none", "create") else None,
            nextflowConfig=state.raw("nextflowConfig").strip() or None,
            preRunScript=state.raw("preRunScript").strip() or None,
            postRunScript=state.raw("postRunScript").strip() or None,
        )
        body = ComputeEnvIn(
            name=state.get("name"),
            platform="aws-batch",
            credentialsId=state.optional("credentialsId"),
            description=state.optional("description"),
            config=config,
        )
    except ValidationError as problem:
        fail_validation(state, problem, FIELDS, ALIASES)
        return None
    return body if state.ok else None


def summary(config: AwsBatchConfig) -> list[tuple[str, Any]]:
    """What a checked configuration will create or use, for the preflight panel."""
    rows: list[tuple[str, Any]] = [("Region", config.region), ("Work directory", config.workDir)]
    forge = config.forge
    if forge is None:
        rows += [("Head queue", config.headQueue), ("Compute queue", config.computeQueue)]
        return rows
    rows += [
        ("Provisioning", f"{forge.type}, {forge.minCpus or 0}-{forge.maxCpus} CPUs"),
        ("Instance types", ", ".join(forge.instanceTypes or ["optimal"])),
        ("VPC", forge.vpcId),
        ("Subnets", ", ".join(forge.subnets)),
        ("Security groups", ", ".join(forge.securityGroups)),
        ("EBS auto-scaling", ebs_auto_scaling(forge)),
        ("On deletion", "dispose of everything Forge made" if forge.disposeOnDeletion else "keep"),
    ]
    return rows


def ebs_auto_scaling(forge: ForgeConfig) -> str:
    """Whether Docker's storage grows by EBS volumes, and by how much at a time."""
    if not forge.ebsAutoScale:
        return "off"
    return f"on, {forge.ebsBlockSize or DEFAULT_EBS_BLOCK_SIZE} GiB blocks"
