"""The permission contract, on every registered flow, and the checker's own failure modes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from batchforge.aws.recorder import AwsCall
from batchforge.client import BatchforgeClient
from batchforge.iam.requests import CallContext, iam_requests
from batchforge.local_aws import ACCOUNT_ID, LocalAws
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules
from tests.contract.contract import FlowScope, seed_evaluator, verify
from tests.contract.flows import FLOWS, FORGE, Flow, FlowEnv


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_flow_keeps_the_permission_contract(
    flow: Flow,
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    rules: AwsRules,
    forge_body: Callable[..., dict[str, Any]],
) -> None:
    app_ctx.recorder.clear()
    scope = flow.run(FlowEnv(api, app_ctx, aws, forge_body))
    calls = list(app_ctx.recorder.calls)
    assert calls, f"flow {flow.name} made no AWS call: nothing was checked"
    outcome = verify(calls, flow.features, scope, ACCOUNT_ID)
    assert not outcome.violations, (
        f"flow {flow.name}: {len(outcome.violations)} violation(s) of the permission contract:\n"
        + "\n".join(outcome.violations)
    )


# --- the checker itself: it must fail on drift ------------------------------------------------


def _call(service: str, operation: str, region: str = "us-east-1", **params: Any) -> AwsCall:
    return AwsCall(service, operation, region, params, started=0.0, outcome="ok")


def _violations(*calls: AwsCall, features: tuple[str, ...] = FORGE, **scope: Any) -> list[str]:
    return verify(calls, features, FlowScope(**scope), ACCOUNT_ID).violations


def test_a_call_mapping_to_no_iam_action_fails_clearly() -> None:
    (message,) = _violations(_call("batch", "FrobnicateQueues"))
    assert message.startswith("UNMAPPED batch:FrobnicateQueues maps to no IAM action")


def test_a_call_outside_the_catalog_is_permission_drift() -> None:
    (message,) = _violations(_call("ec2", "DescribeAvailabilityZones"))
    assert message.startswith("NOT CATALOGUED ec2:DescribeAvailabilityZones")
    assert "permission drift" in message


def test_a_call_the_seed_denies_fails_on_both_policies() -> None:
    messages = _violations(_call("iam", "CreateRole", RoleName="Other-Role"))
    assert [m.split()[0] for m in messages] == ["SEED", "LEAST-PRIVILEGE"]
    assert "iam:CreateRole on arn:aws:iam::123456789012:role/Other-Role" in messages[0]


def test_least_privilege_is_checked_with_the_flows_scope() -> None:
    get = _call("s3", "GetObject", Bucket="other-bucket", Key="x/.nextflow.log")
    messages = _violations(get, work_dir="s3://nf-work/run")
    assert [m.split()[0] for m in messages] == ["LEAST-PRIVILEGE"]  # the seed allows s3:Get* on *
    assert not _violations(
        _call("s3", "GetObject", Bucket="nf-work", Key="run/.nextflow.log"),
        work_dir="s3://nf-work/run",
    )


def test_a_call_is_attributed_to_the_flows_features() -> None:
    (message,) = _violations(_call("efs", "DescribeFileSystems"))  # forge flow, no efs feature
    assert message.startswith("FEATURE efs:DescribeFileSystems")


def test_tags_on_create_need_the_tagging_permission() -> None:
    tagged = _call(
        "ec2",
        "CreateLaunchTemplate",
        LaunchTemplateName="TowerForge-x",
        LaunchTemplateData={},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "a"}]}],
    )
    (message,) = _violations(tagged)
    assert message.startswith("SEED ec2:CreateLaunchTemplate -> ec2:CreateTags")
    untagged = _call("ec2", "CreateLaunchTemplate", LaunchTemplateName="x", LaunchTemplateData={})
    assert not _violations(untagged)


def test_roles_handed_to_a_service_need_pass_role_with_its_context() -> None:
    create = _call(
        "batch",
        "CreateComputeEnvironment",
        computeEnvironmentName="TowerForge-x-work",
        serviceRole="arn:aws:iam::123456789012:role/Someone-Elses-Role",
        computeResources={},
    )
    messages = _violations(create)
    assert any(
        "iam:PassRole on arn:aws:iam::123456789012:role/Someone-Elses-Role" in m
        and "[iam:PassedToService=batch.amazonaws.com]" in m
        for m in messages
    )


def test_an_undecided_dependent_action_is_reported() -> None:
    (message,) = _violations(_call("ec2", "CreateVpcEndpoint", VpcId="vpc-1"))
    assert message.startswith("UNMAPPED ec2:CreateVpcEndpoint: the IAM data lists")
    assert "TRIGGERS" in message


def test_a_triggered_dependent_action_is_checked() -> None:
    delete = _call("fsx", "DeleteFileSystem", FileSystemId="fs-1")
    assert not _violations(delete, features=("fsx",))  # no final backup asked: nothing more
    backup = {"SkipFinalBackup": False}
    messages = _violations(
        _call("fsx", "DeleteFileSystem", FileSystemId="fs-1", LustreConfiguration=backup),
        features=("fsx",),
    )
    assert any(m.startswith("SEED fsx:DeleteFileSystem -> fsx:CreateBackup") for m in messages)


def test_sts_needs_nothing_but_assume_role_must_target_the_configured_role() -> None:
    role = "arn:aws:iam::123456789012:role/BatchforgeAccess"
    assert not _violations(_call("sts", "GetCallerIdentity"), features=())
    assert not _violations(_call("sts", "AssumeRole", RoleArn=role), features=(), roles=(role,))
    (message,) = _violations(_call("sts", "AssumeRole", RoleArn=role), features=())
    assert message.startswith("STS sts:AssumeRole")


def _register(job_role: str, execution_role: str) -> AwsCall:
    properties = {"image": "nextflow/nextflow", "jobRoleArn": job_role}
    properties["executionRoleArn"] = execution_role
    return _call(
        "batch",
        "RegisterJobDefinition",
        jobDefinitionName="batchforge-nf-head-0123",
        type="container",
        containerProperties=properties,
    )


def test_a_job_definitions_roles_are_passed_to_batch() -> None:
    head = "arn:aws:iam::123456789012:role/TowerForge-x-HeadJobRole"
    execution = "arn:aws:iam::123456789012:role/TowerForge-x-ExecutionRole"
    register = _register(head, execution)
    passes = [r for r in iam_requests(register, CallContext(ACCOUNT_ID, {})) if r.parent]
    assert [(r.action, r.resource, dict(r.context)) for r in passes] == [
        ("iam:PassRole", head, {"iam:PassedToService": "batch.amazonaws.com"}),
        ("iam:PassRole", execution, {"iam:PassedToService": "batch.amazonaws.com"}),
    ]
    assert not _violations(register, features=("launch",))
    # Passed to ECS tasks instead, the seed's condition (batch, ec2) would refuse it.
    to_ecs = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    assert not seed_evaluator().evaluate("iam:PassRole", head, to_ecs).allowed


def test_roles_made_outside_forge_are_allowed_by_the_seed_but_not_by_the_scoped_policy() -> None:
    """The seed passes any role to Batch; the least-privilege layout names TowerForge- roles
    only (its scope has no field for roles a user made): such roles must be added by hand."""
    mine = "arn:aws:iam::123456789012:role/my-head-role"
    forged = "arn:aws:iam::123456789012:role/TowerForge-x-ExecutionRole"
    messages = _violations(_register(mine, forged), features=("launch",))
    assert [m.split()[0] for m in messages] == ["LEAST-PRIVILEGE"]
    assert "iam:PassRole on arn:aws:iam::123456789012:role/my-head-role" in messages[0]


def test_housekeeping_extras_are_checked_against_the_extras_policy() -> None:
    head = "arn:aws:batch:us-east-1:123456789012:job-definition/batchforge-nf-head-0123:4"
    listing = _call(
        "batch",
        "ListJobs",
        jobQueue="TowerForge-x-head",
        filters=[{"name": "JOB_NAME", "values": ["nf-run-1"]}],
    )
    retire = _call("batch", "DeregisterJobDefinition", jobDefinition=head)
    assert not _violations(listing, retire, features=("launch",))
    foreign = _call(
        "batch",
        "DeregisterJobDefinition",
        jobDefinition="arn:aws:batch:us-east-1:123456789012:job-definition/their-pipeline:1",
    )
    (message,) = _violations(foreign, features=("launch",))
    assert message.startswith("LEAST-PRIVILEGE batch:DeregisterJobDefinition")  # not SEED: extra
