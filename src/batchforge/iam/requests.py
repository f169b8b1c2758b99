"""Map a recorded AWS call to the IAM requests AWS authorises it as.

One call is authorised as:

* the action(s) of the operation (:func:`batchforge.iam.calls.actions_for_call`) on the
  resources its parameters name -- ARNs built from the IAM definition data's ARN format of
  each resource type of the action, filled from the parameters, the call's region and the
  account (an id not known yet, as in a create, is ``*``: that is the ARN AWS evaluates);
* dependent actions, when the request uses the option that triggers them: tags on create
  (``tags``, ``Tags``, ``TagSpecifications``), and the IAM data's other dependents through
  :data:`TRIGGERS` -- a dependent action with no rule there is reported, never ignored;
* ``iam:PassRole`` for every role the request hands to a service (:data:`PASSED_ROLES`), with
  the ``iam:PassedToService`` AWS sends;
* STS: ``sts:GetCallerIdentity`` needs no permission (AWS answers it even under an explicit
  Deny); ``sts:AssumeRole`` is authorised by the *role's trust policy* plus the caller's own
  policy -- neither is part of the policy batchforge documents -- so it is mapped to a special
  request that the contract checks against the roles the flow configured.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from batchforge.aws.recorder import AwsCall
from batchforge.iam.actions import ResourceType, dataset
from batchforge.iam.calls import NO_PERMISSION_NEEDED, actions_for_call, iam_prefix

ASSUME_ROLE = "sts:AssumeRole"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_GENERIC = {"Partition", "Region", "Account"}
SECRET_SUFFIX = "AbCdEf"
"""Secrets Manager appends 6 random characters to a secret's name in its ARN."""


@dataclass(frozen=True)
class IamRequest:
    """One authorisation AWS makes for a call."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    why: str = "the call itself"
    parent: str | None = None
    """The call's own action when this request is a dependent one (tags, PassRole...)."""

    @property
    def label(self) -> str:
        ctx = "".join(f" [{k}={v}]" for k, v in self.context)
        return f"{self.action} on {self.resource}{ctx}"


@dataclass
class CallContext:
    """What mapping needs beyond the call: the account, and which role each instance
    profile holds (from the flow's own ``iam:AddRoleToInstanceProfile`` calls)."""

    account: str
    profile_roles: dict[str, str]

    @classmethod
    def of(cls, account: str, calls: list[AwsCall]) -> CallContext:
        roles = {
            str(c.params.get("InstanceProfileName")): str(c.params.get("RoleName"))
            for c in calls
            if c.name == "iam:AddRoleToInstanceProfile"
        }
        return cls(account, roles)


class Unmapped(Exception):
    """A recorded call (or a dependent action it triggers) that the contract cannot map."""


# --- parameters -> ARN placeholder values ---------------------------------------------------


def _short(value: str) -> str:
    """``arn:...:job-queue/NAME`` -> ``NAME``."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _list(params: dict[str, Any], *keys: str) -> list[str]:
    out: list[str] = []
    for key in keys:
        value = params.get(key)
        if isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, list):
            out.extend(str(v) for v in value if isinstance(v, str) and v)
    return out


def _values(placeholder: str, params: dict[str, Any]) -> list[str]:
    """Values of one ARN placeholder named by a call's parameters (empty: not named)."""
    if placeholder == "ComputeEnvironmentName":
        order = [o.get("computeEnvironment", "") for o in params.get("computeEnvironmentOrder", [])]
        names = _list(params, "computeEnvironmentName", "computeEnvironment", "computeEnvironments")
        return [_short(n) for n in [*names, *order] if n]
    if placeholder == "JobQueueName":
        return [_short(n) for n in _list(params, "jobQueueName", "jobQueue", "jobQueues")]
    if placeholder == "JobDefinitionName":
        names = _list(params, "jobDefinitionName", "jobDefinition", "jobDefinitions")
        return [_short(n).split(":")[0] for n in names]
    if placeholder == "Revision":
        revisions = [_short(n).split(":")[1] for n in _list(params, "jobDefinition") if ":" in n]
        return revisions
    if placeholder == "ParameterNameWithoutLeadingSlash":
        return [n.lstrip("/") for n in _list(params, "Names", "Name")]
    if placeholder == "SecretId":
        names = _list(params, "SecretId", "Name")
        return [
            n.split(":secret:")[-1] if n.startswith("arn:") else f"{n}-{SECRET_SUFFIX}"
            for n in names
        ]
    keys = {
        "JobId": ("jobId", "jobs"),
        "RoleNameWithPath": ("RoleName",),
        "InstanceProfileNameWithPath": ("InstanceProfileName",),
        "UserNameWithPath": ("UserName",),
        "GroupNameWithPath": ("GroupName",),
        "LaunchTemplateId": ("LaunchTemplateId", "LaunchTemplateIds"),
        "FileSystemId": ("FileSystemId", "FileSystemIds"),
        "BucketName": ("Bucket",),
        "ObjectName": ("Key",),
        "LogGroupName": ("logGroupName",),
        "LogStreamName": ("logStreamName",),
        "VpcId": ("VpcId",),
    }.get(placeholder, ())
    return _list(params, *keys)


def _fill(rt: ResourceType, call: AwsCall, ctx: CallContext, required: bool) -> list[str]:
    """ARNs of one resource type named by the call; unknown ids are ``*`` when ``required``,
    and the type is skipped otherwise."""
    if "policy/${PolicyNameWithPath}" in rt.arn and call.params.get("PolicyArn"):
        return [str(call.params["PolicyArn"])]
    names = _PLACEHOLDER.findall(rt.arn)
    choices: list[list[str]] = []
    for name in names:
        if name in _GENERIC:
            choices.append(
                {"Partition": ["aws"], "Region": [call.region], "Account": [ctx.account]}[name]
            )
            continue
        found = _values(name, call.params)
        if not found and not required:
            return []
        choices.append(found or ["*"])
    out = []
    for combo in itertools.product(*choices):
        values = dict(zip(names, combo, strict=True))
        out.append(_PLACEHOLDER.sub(lambda m, v=values: v[m.group(1)], rt.arn))
    return out


def resources_of(
    action: str, call: AwsCall, ctx: CallContext, only: set[str] | None = None
) -> list[str]:
    """Resource ARNs ``action`` is evaluated on for ``call`` (``["*"]`` without resource-level
    permissions).  ``only`` restricts to those resource type names."""
    info = dataset().action(action)
    if info is None or not info.supports_resource_level:
        return ["*"]
    out: list[str] = []
    for rt in info.resource_types:
        if only is not None and rt.name not in only:
            continue
        for arn in _fill(rt, call, ctx, rt.required or only is not None):
            if arn not in out:
                out.append(arn)
    return out or ["*"]


# --- dependent actions ----------------------------------------------------------------------


def _has_tags(params: dict[str, Any]) -> bool:
    if params.get("tags") or params.get("Tags"):
        return True
    return any(spec.get("Tags") for spec in params.get("TagSpecifications") or [])


TAG_ACTIONS: dict[str, str] = {
    "batch": "batch:TagResource",
    "iam:CreateRole": "iam:TagRole",
    "iam:CreateInstanceProfile": "iam:TagInstanceProfile",
    "iam:CreatePolicy": "iam:TagPolicy",
    "iam:CreateUser": "iam:TagUser",
    "ec2": "ec2:CreateTags",
    "elasticfilesystem": "elasticfilesystem:TagResource",
    "fsx": "fsx:TagResource",
    "secretsmanager": "secretsmanager:TagResource",
    "logs": "logs:TagResource",
    "ssm": "ssm:AddTagsToResource",
}
"""Tagging action checked when a create request carries tags (by action, else by service)."""

TAG_TARGETS: dict[str, str] = {
    "elasticfilesystem:CreateFileSystem": "file-system",
    # Batch's TagResource names a job definition by revision only; the new revision is not
    # known yet: ``job-definition/NAME:*`` (Nextflow tags every job definition it registers,
    # nf-amazon AwsBatchTaskHandler: nextflow.io/createdAt, nextflow.io/version).
    "batch:RegisterJobDefinition": "job-definition-revision",
}
"""Resource type tagged, where the creating action has no resource type to share."""

Trigger = Callable[[dict[str, Any]], bool]
TRIGGERS: dict[tuple[str, str], Trigger] = {
    # An AMI given as an SSM parameter reference makes EC2 read the parameter as the caller.
    ("ec2:CreateLaunchTemplate", "ssm:GetParameters"): lambda p: str(
        (p.get("LaunchTemplateData") or {}).get("ImageId", "")
    ).startswith("resolve:ssm:"),
    ("ec2:DescribeLaunchTemplateVersions", "ssm:GetParameters"): lambda p: bool(
        p.get("ResolveAlias")
    ),
    # A final backup is taken on delete only when asked (Lustre's default is to skip it).
    ("fsx:DeleteFileSystem", "fsx:CreateBackup"): lambda p: any(
        (p.get(k) or {}).get("SkipFinalBackup") is False
        for k in ("LustreConfiguration", "WindowsConfiguration", "OpenZFSConfiguration")
    ),
    ("fsx:DeleteFileSystem", "fsx:TagResource"): lambda p: any(
        (p.get(k) or {}).get("FinalBackupTags")
        for k in ("LustreConfiguration", "WindowsConfiguration", "OpenZFSConfiguration")
    ),
    # Listed by the IAM data for FSx's console (it offers the VPC's security groups); the API
    # call with explicit SecurityGroupIds is not documented to need it.  To verify on AWS.
    ("fsx:CreateFileSystem", "ec2:GetSecurityGroupsForVpc"): lambda p: False,
}
"""When a dependent action listed by the IAM data is checked too: (parent, dependent) ->
predicate on the request parameters.  Tagging dependents are handled by :func:`_has_tags`."""


def _tag_action(action: str) -> str | None:
    return TAG_ACTIONS.get(action) or TAG_ACTIONS.get(action.partition(":")[0])


def _dependents(action: str, call: AwsCall, ctx: CallContext) -> list[IamRequest]:
    info = dataset().action(action)
    assert info is not None
    out: list[IamRequest] = []
    tagger = _tag_action(action)
    if _has_tags(call.params) and action.partition(":")[2].startswith(
        ("Create", "Register", "Submit")
    ):
        if tagger is None:
            raise Unmapped(
                f"{call.name} sends tags but the contract knows no tagging action for {action}"
            )
        out += _dependent_requests(tagger, action, call, ctx, "tags on create")
    for dep in info.dependent_actions:
        if dep == tagger or (dep == "iam:PassRole" and action in PASSED_ROLES):
            continue  # tags and roles handed to a service are mapped on their own
        trigger = TRIGGERS.get((action, dep))
        if trigger is None:
            raise Unmapped(
                f"{call.name}: the IAM data lists {dep} as a dependent action of {action}; add a "
                "rule to TRIGGERS saying when batchforge's requests trigger it"
            )
        if trigger(call.params):
            out += _dependent_requests(dep, action, call, ctx, "dependent action triggered")
    return out


def _dependent_requests(
    dep: str, parent: str, call: AwsCall, ctx: CallContext, why: str
) -> list[IamRequest]:
    info, parent_info = dataset().action(dep), dataset().action(parent)
    assert info is not None and parent_info is not None
    own = {rt.name for rt in info.resource_types}
    target = TAG_TARGETS.get(parent)
    shared = (
        {target} if target else {rt.name for rt in parent_info.resource_types if rt.required} & own
    )
    resources = resources_of(dep, call, ctx, shared or None)
    return [IamRequest(dep, r, (), why, parent) for r in resources]


# --- roles handed to services -------------------------------------------------------------------

PASSED_ROLES: dict[str, list[tuple[str, str]]] = {
    "batch:CreateComputeEnvironment": [
        ("serviceRole", "batch.amazonaws.com"),
        ("computeResources.spotIamFleetRole", "batch.amazonaws.com"),
        ("computeResources.instanceRole", "ec2.amazonaws.com"),
    ],
    "batch:UpdateComputeEnvironment": [
        ("serviceRole", "batch.amazonaws.com"),
        ("computeResources.instanceRole", "ec2.amazonaws.com"),
    ],
    # The roles are handed to AWS Batch with the job definition (ECS tasks assume them later,
    # through the roles' own ecs-tasks.amazonaws.com trust): iam:PassedToService is
    # batch.amazonaws.com.  Seqera's launch-only policy for manual environments, where
    # RegisterJobDefinition is the only call passing roles, grants exactly that
    # ("PassRolesToBatch": the execution roles, StringEquals iam:PassedToService
    # batch.amazonaws.com).  Not measured on AWS here: were it ecs-tasks.amazonaws.com, the
    # seed's condition (batch, ec2) would deny every launch with a head job role.
    "batch:RegisterJobDefinition": [
        ("containerProperties.jobRoleArn", "batch.amazonaws.com"),
        ("containerProperties.executionRoleArn", "batch.amazonaws.com"),
    ],
    "ec2:CreateLaunchTemplate": [
        ("LaunchTemplateData.IamInstanceProfile.Arn", "ec2.amazonaws.com")
    ],
    # "The caller of this operation must be granted the PassRole permission on the IAM role"
    # (IAM API reference); the role is handed to EC2 through the instance profile.
    "iam:AddRoleToInstanceProfile": [("RoleName", "ec2.amazonaws.com")],
}
"""Parameters holding a role (or instance profile) handed to a service, and the
``iam:PassedToService`` value.  The service receiving the Spot Fleet role is taken to be Batch
(it calls EC2 with it): an assumption the seed's condition (batch, ec2) covers either way."""


def _dig(params: dict[str, Any], path: str) -> Any:
    value: Any = params
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _passed_roles(action: str, call: AwsCall, ctx: CallContext) -> list[IamRequest]:
    out = []
    for path, service in PASSED_ROLES.get(action, []):
        value = _dig(call.params, path)
        if not value:
            continue
        arn = str(value)
        if not arn.startswith("arn:"):  # a role name
            arn = f"arn:aws:iam::{ctx.account}:role/{arn}"
        if ":instance-profile/" in arn:
            profile = arn.rsplit("/", 1)[-1]
            role = ctx.profile_roles.get(profile, profile)
            arn = f"{arn.split(':instance-profile/')[0]}:role/{role}"
        context = (("iam:PassedToService", service),)
        out.append(IamRequest("iam:PassRole", arn, context, f"{path} handed to {service}", action))
    return out


# --- entry point ----------------------------------------------------------------------------------


def iam_requests(call: AwsCall, ctx: CallContext) -> list[IamRequest]:
    """Every authorisation AWS makes for ``call``.  Raises :class:`Unmapped` when the call
    maps to no IAM action, or triggers a dependent action the contract has no rule for."""
    if call.name in NO_PERMISSION_NEEDED:
        return []
    if call.name == ASSUME_ROLE:
        return [IamRequest(ASSUME_ROLE, str(call.params.get("RoleArn", "")), (), "assume the role")]
    actions = actions_for_call(call.service, call.operation)
    if not actions:
        raise Unmapped(
            f"{call.name} maps to no IAM action (IAM prefix {iam_prefix(call.service)!r}): add it "
            "to batchforge.iam.calls.OPERATION_ACTIONS if AWS authorises it under another name"
        )
    out: list[IamRequest] = []
    for action in actions:
        out += [IamRequest(action, r) for r in resources_of(action, call, ctx)]
        out += _dependents(action, call, ctx)
        out += _passed_roles(action, call, ctx)
    return out
