"""AWS Batch compute environments and job queues.

Real AWS is asynchronous here: a compute environment or queue is CREATING, UPDATING or
DELETING for a while, a queue must be DISABLED before it is deleted, and a compute environment
still referenced by a queue cannot be deleted ("found existing JobQueue relationship"; AWS's
view of that relationship is eventually consistent, so it is retried).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from batchforge.errors import AwsError
from batchforge.forge.resources.base import Created, ForgeContext, Resource, says

EXISTS = ("already exists",)
GONE = ("does not exist", "not found")
RELATIONSHIP = ("jobqueue relationship", "job queue relationship")
# IAM is eventually consistent: a role or instance profile made seconds ago may be unknown.
IAM_NOT_YET = ("instance profile", "iaminstanceprofile", "service role", "role", "not authorized")


class BatchError(AwsError):
    code = "forge-batch-invalid"


def _describe_ce(ctx: ForgeContext, name: str) -> dict[str, Any] | None:
    found = ctx.aws.client("batch").describe_compute_environments(computeEnvironments=[name])
    items = found.get("computeEnvironments", [])
    return items[0] if items else None


def _describe_jq(ctx: ForgeContext, name: str) -> dict[str, Any] | None:
    found = ctx.aws.client("batch").describe_job_queues(jobQueues=[name])
    items = found.get("jobQueues", [])
    return items[0] if items else None


def _ready(kind: str, item: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The item once VALID; None while CREATING/UPDATING; an error when INVALID or gone."""
    if item is None:
        raise BatchError(
            f"AWS Batch {kind} {name} disappeared while being created.",
            service="batch",
            operation="Describe",
        )
    status = item.get("status")
    if status == "VALID":
        return item
    if status == "INVALID":
        reason = item.get("statusReason") or "no reason given"
        raise BatchError(
            f"AWS Batch {kind} {name} is INVALID: {reason}",
            service="batch",
            operation="Describe",
            aws_message=reason,
        )
    return None


def _live(item: dict[str, Any] | None, name: str, arn_key: str) -> Created | None:
    """A compute environment or queue found by name, unless it is on its way out."""
    if item is None or item.get("status") in ("DELETING", "DELETED"):
        return None
    return Created(physical_id=name, arn=str(item[arn_key]))


def _settled(item: dict[str, Any] | None) -> bool:
    return item is None or item.get("status") not in ("CREATING", "UPDATING", "DELETING")


def _image_id(ctx: ForgeContext, parameter: str) -> str:
    """The AMI an SSM public parameter names (the x86_64 ECS AMI of an ARM64 or GPU
    environment's head compute environment)."""
    found = ctx.aws.client("ssm").get_parameters(Names=[parameter])
    values = [p["Value"] for p in found.get("Parameters", [])]
    if not values:
        raise AwsError(
            f"The ECS-optimized AMI parameter {parameter} does not exist in this region.",
            service="ssm",
            operation="GetParameters",
            aws_code="ParameterNotFound",
        )
    return str(values[0])


class ComputeEnvironmentHandler:
    """params: ``compute_resources`` (with ``launch_template`` / ``instance_profile`` /
    ``fleet_role`` keys resolved from refs), ``service_role`` (key), and optionally
    ``image_parameter`` / ``image_type``: an SSM AMI parameter that overrides the launch
    template's image through ``ec2Configuration`` (the head of an ARM64 or GPU environment)."""

    kind = "batch-compute-environment"

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        return _live(_describe_ce(ctx, resource.name), resource.name, "computeEnvironmentArn")

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        if found is None:
            self._create(ctx, resource)
        item = ctx.pacing.until(
            f"compute environment {resource.name} to be VALID",
            lambda: _ready("compute environment", _describe_ce(ctx, resource.name), resource.name),
        )
        return Created(physical_id=resource.name, arn=str(item["computeEnvironmentArn"]))

    @staticmethod
    def _create(ctx: ForgeContext, resource: Resource) -> None:
        batch = ctx.aws.client("batch")
        compute = dict(resource.params["compute_resources"])
        compute["instanceRole"] = ctx.output(resource.params["instance_profile"]).arn
        compute["launchTemplate"] = {
            "launchTemplateName": ctx.output(resource.params["launch_template"]).attrs["name"],
            "version": "$Latest",
        }
        if resource.params.get("fleet_role"):
            compute["spotIamFleetRole"] = ctx.output(resource.params["fleet_role"]).arn
        compute["tags"] = dict(ctx.tags)
        if resource.params.get("image_parameter"):
            compute["ec2Configuration"] = [
                {
                    "imageType": resource.params.get("image_type", "ECS_AL2023"),
                    "imageIdOverride": _image_id(ctx, resource.params["image_parameter"]),
                }
            ]
        request = {
            "computeEnvironmentName": resource.name,
            "type": "MANAGED",
            "state": "ENABLED",
            "computeResources": compute,
            "serviceRole": ctx.output(resource.params["service_role"]).arn,
            # No resource tags on the compute environment: tagging on create is authorised
            # as batch:TagResource, which the seed grants on queues, job definitions and jobs
            # only.  computeResources.tags (on the instances) is not affected.
        }

        def create() -> str:
            try:
                return str(batch.create_compute_environment(**request)["computeEnvironmentArn"])
            except AwsError as error:
                if not says(error, *EXISTS):
                    raise
                existing = _describe_ce(ctx, resource.name)
                if existing is None:
                    raise
                return str(existing["computeEnvironmentArn"])

        ctx.pacing.retrying(create, lambda e: says(e, *IAM_NOT_YET) and not says(e, *EXISTS))

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None:
        batch = ctx.aws.client("batch")

        def disable() -> None:
            batch.update_compute_environment(computeEnvironment=resource.name, state="DISABLED")

        if not _disable(
            ctx,
            f"compute environment {resource.name}",
            disable,
            lambda: _describe_ce(ctx, resource.name),
        ):
            return

        def delete() -> None:
            try:
                batch.delete_compute_environment(computeEnvironment=resource.name)
            except AwsError as error:
                if not says(error, *GONE):
                    raise

        ctx.pacing.retrying(delete, lambda e: says(e, *RELATIONSHIP))
        ctx.pacing.until(
            f"compute environment {resource.name} to be deleted",
            lambda: _gone_probe(_describe_ce(ctx, resource.name)),
        )


class JobQueueHandler:
    """params: ``compute_environment`` (key), ``priority``, ``time_limit_actions``."""

    kind = "batch-job-queue"

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        return _live(_describe_jq(ctx, resource.name), resource.name, "jobQueueArn")

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        if found is None:
            self._create(ctx, resource)
        item = ctx.pacing.until(
            f"job queue {resource.name} to be VALID",
            lambda: _ready("job queue", _describe_jq(ctx, resource.name), resource.name),
        )
        return Created(physical_id=resource.name, arn=str(item["jobQueueArn"]))

    @staticmethod
    def _create(ctx: ForgeContext, resource: Resource) -> None:
        batch = ctx.aws.client("batch")
        request: dict[str, Any] = {
            "jobQueueName": resource.name,
            "state": "ENABLED",
            "priority": resource.params.get("priority", 1),
            "computeEnvironmentOrder": [
                {
                    "order": 1,
                    "computeEnvironment": ctx.output(resource.params["compute_environment"]).arn,
                }
            ],
            "tags": dict(ctx.tags),
        }
        if resource.params.get("time_limit_actions"):
            request["jobStateTimeLimitActions"] = resource.params["time_limit_actions"]
        try:
            batch.create_job_queue(**request)
        except AwsError as error:
            existing = _describe_jq(ctx, resource.name) if says(error, *EXISTS) else None
            if existing is None:
                raise

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None:
        batch = ctx.aws.client("batch")

        def disable() -> None:
            batch.update_job_queue(jobQueue=resource.name, state="DISABLED")

        if not _disable(
            ctx, f"job queue {resource.name}", disable, lambda: _describe_jq(ctx, resource.name)
        ):
            return
        try:
            batch.delete_job_queue(jobQueue=resource.name)
        except AwsError as error:
            if not says(error, *GONE):
                raise
        ctx.pacing.until(
            f"job queue {resource.name} to be deleted",
            lambda: _gone_probe(_describe_jq(ctx, resource.name)),
        )


def _disable(
    ctx: ForgeContext,
    what: str,
    disable: Callable[[], None],
    describe: Callable[[], dict[str, Any] | None],
) -> bool:
    """Disable, then wait until the change has settled.  False when the resource is gone.

    Optimistic: the update is tried first (no describe), and only when AWS says a change is
    under way do we wait for it and try again — one call fewer in the usual case.
    """
    try:
        disable()
    except AwsError as error:
        if says(error, *GONE):
            return False
        ctx.pacing.until(f"{what} to settle", lambda: _settle_probe(describe()))
        item = _settle_probe(describe())
        if item is None or item.get("missing"):
            return False
        disable()
    item = ctx.pacing.until(f"{what} to be disabled", lambda: _settle_probe(describe()))
    return not item.get("missing")


def _settle_probe(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The item once no change is under way (``{"missing": True}`` when gone)."""
    if item is None or item.get("status") == "DELETED":
        return {"missing": True}
    return item if _settled(item) else None


def _gone_probe(item: dict[str, Any] | None) -> bool | None:
    return True if item is None or item.get("status") == "DELETED" else None
