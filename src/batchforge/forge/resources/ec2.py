"""The EC2 launch template."""

from __future__ import annotations

from batchforge.errors import AwsError
from batchforge.forge.resources.base import Created, ForgeContext, Resource, aws_code, tag_list

NOT_FOUND = {"InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound"}


class LaunchTemplateHandler:
    """params: ``data`` (LaunchTemplateData without user data), ``user_data`` (base64)."""

    kind = "launch-template"

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        try:
            found = ctx.aws.client("ec2").describe_launch_templates(
                LaunchTemplateNames=[resource.name]
            )["LaunchTemplates"]
        except AwsError as error:
            if aws_code(error) in NOT_FOUND:
                return None
            raise
        if not found:
            return None
        return Created(physical_id=found[0]["LaunchTemplateId"], attrs={"name": resource.name})

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        if found is not None:
            return found
        ec2 = ctx.aws.client("ec2")
        data = dict(resource.params["data"])
        data["UserData"] = resource.params["user_data"]
        data["TagSpecifications"] = [
            {"ResourceType": "volume", "Tags": tag_list(ctx.tags)},
        ]
        try:
            template = ec2.create_launch_template(
                LaunchTemplateName=resource.name,
                LaunchTemplateData=data,
                ClientToken=resource.name,
                # No TagSpecifications for the template itself: tagging on create is
                # authorised as ec2:CreateTags, which the seed's policy does not grant.
            )["LaunchTemplate"]
        except AwsError as error:
            if aws_code(error) != "InvalidLaunchTemplateName.AlreadyExistsException":
                raise
            template = ec2.describe_launch_templates(LaunchTemplateNames=[resource.name])[
                "LaunchTemplates"
            ][0]
        return Created(physical_id=template["LaunchTemplateId"], attrs={"name": resource.name})

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None:
        ec2 = ctx.aws.client("ec2")
        try:
            if physical_id is None:  # the create may or may not have happened: look first
                found = ec2.describe_launch_templates(LaunchTemplateNames=[resource.name])
                if not found["LaunchTemplates"]:
                    return
                physical_id = found["LaunchTemplates"][0]["LaunchTemplateId"]
            ec2.delete_launch_template(LaunchTemplateId=physical_id)
        except AwsError as error:
            if aws_code(error) not in NOT_FOUND:
                raise
