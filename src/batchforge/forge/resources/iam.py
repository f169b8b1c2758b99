"""IAM roles and the instance profile."""

from __future__ import annotations

import json

from batchforge.errors import AwsError
from batchforge.forge.resources.base import Created, ForgeContext, Resource, aws_code, tag_list


def trust_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _role(ctx: ForgeContext, resource: Resource) -> bool | None:
    try:
        ctx.aws.client("iam").get_role(RoleName=resource.name)
    except AwsError as error:
        if aws_code(error) == "NoSuchEntity":
            return None
        raise
    return True


class RoleHandler:
    """params: ``service`` (trusted principal), ``managed`` (policy ARNs),
    ``inline`` ({name: policy document dict})."""

    kind = "iam-role"

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        try:
            role = ctx.aws.client("iam").get_role(RoleName=resource.name)["Role"]
        except AwsError as error:
            if aws_code(error) == "NoSuchEntity":
                return None
            raise
        return Created(physical_id=resource.name, arn=role["Arn"])

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        iam = ctx.aws.client("iam")
        arn = found.arn if found is not None else None
        if arn is None:
            try:
                arn = iam.create_role(
                    RoleName=resource.name,
                    AssumeRolePolicyDocument=trust_policy(resource.params["service"]),
                    Description="Created by batchforge Forge",
                    Tags=tag_list(ctx.tags),
                )["Role"]["Arn"]
            except AwsError as error:
                if aws_code(error) != "EntityAlreadyExists":
                    raise
                arn = iam.get_role(RoleName=resource.name)["Role"]["Arn"]
        for policy_arn in resource.params.get("managed", ()):
            iam.attach_role_policy(RoleName=resource.name, PolicyArn=policy_arn)
        for policy_name, document in resource.params.get("inline", {}).items():
            iam.put_role_policy(
                RoleName=resource.name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
        # IAM is eventually consistent: a role just made may be unknown for a few seconds.
        # Wait until IAM itself answers for it (iam:GetRole, in the seed) before the next
        # waves hand it to Batch and EC2.  What Batch sees may still lag: a compute
        # environment that turns INVALID for that reason is recovered by the engine.
        ctx.pacing.until(f"IAM role {resource.name} to be readable", lambda: _role(ctx, resource))
        return Created(physical_id=resource.name, arn=arn)

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None:
        iam = ctx.aws.client("iam")
        try:
            self._detach_known(ctx, resource)
            iam.delete_role(RoleName=resource.name)
        except AwsError as error:
            if aws_code(error) == "NoSuchEntity":
                return
            if aws_code(error) != "DeleteConflict":
                raise
            self._detach_all(ctx, resource.name)  # someone attached more than we did
            iam.delete_role(RoleName=resource.name)

    @staticmethod
    def _detach_known(ctx: ForgeContext, resource: Resource) -> None:
        """Detach what Forge attached: no listing calls in the common case."""
        iam = ctx.aws.client("iam")
        for policy_arn in resource.params.get("managed", ()):
            try:
                iam.detach_role_policy(RoleName=resource.name, PolicyArn=policy_arn)
            except AwsError as error:
                if aws_code(error) != "NoSuchEntity":
                    raise
        for policy_name in resource.params.get("inline", {}):
            try:
                iam.delete_role_policy(RoleName=resource.name, PolicyName=policy_name)
            except AwsError as error:
                if aws_code(error) != "NoSuchEntity":
                    raise

    @staticmethod
    def _detach_all(ctx: ForgeContext, role_name: str) -> None:
        iam = ctx.aws.client("iam")
        for page in iam.paginate("list_attached_role_policies", RoleName=role_name):
            for policy in page["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=role_name, PolicyArn=policy["PolicyArn"])
        for page in iam.paginate("list_role_policies", RoleName=role_name):
            for policy_name in page["PolicyNames"]:
                iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name)


class InstanceProfileHandler:
    """params: ``role`` (key of the role resource to add)."""

    kind = "iam-instance-profile"

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        """Not looked up: the seed's policy grants no ``iam:GetInstanceProfile``.  None is
        safe here because IAM names are unique in an account and carry no idempotency
        window: the create answers ``EntityAlreadyExists``, and the profile is adopted."""
        return None

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        iam = ctx.aws.client("iam")
        role = ctx.output(resource.params["role"])
        role_name = role.physical_id
        account_id = (role.arn or "").split(":")[4] if role.arn else ctx.account_id
        arn = f"arn:aws:iam::{account_id}:instance-profile/{resource.name}"
        try:
            arn = iam.create_instance_profile(
                InstanceProfileName=resource.name, Tags=tag_list(ctx.tags)
            )["InstanceProfile"]["Arn"]
        except AwsError as error:
            if aws_code(error) != "EntityAlreadyExists":
                raise
        try:
            iam.add_role_to_instance_profile(InstanceProfileName=resource.name, RoleName=role_name)
        except AwsError as error:
            # An instance profile holds one role: LimitExceeded means ours is already in.
            if aws_code(error) != "LimitExceeded":
                raise
        return Created(physical_id=resource.name, arn=arn, attrs={"role": role_name})

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None:
        iam = ctx.aws.client("iam")
        role_name = resource.params.get("role_name")
        if role_name:
            try:
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=resource.name, RoleName=role_name
                )
            except AwsError as error:
                if aws_code(error) != "NoSuchEntity":
                    raise
        try:
            iam.delete_instance_profile(InstanceProfileName=resource.name)
        except AwsError as error:
            if aws_code(error) != "NoSuchEntity":
                raise
