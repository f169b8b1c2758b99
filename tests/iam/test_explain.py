"""AccessDenied explained: the mapping (unit) and a real denied call through the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from batchforge.aws.errors import set_access_denied_explainer, translate
from batchforge.errors import AwsAccessDenied
from batchforge.iam.calls import actions_for_call, iam_prefix
from batchforge.iam.explain import access_denied_hint, explain, install, parse_denial
from batchforge.local_aws import LocalAws
from batchforge.services.context import AppContext
from batchforge.settings import Settings

USER = "arn:aws:iam::123456789012:user/alice"


def _statement(hint: str) -> dict:
    return json.loads(hint.split("Add: ", 1)[1])


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("efs", "CreateFileSystem", "elasticfilesystem:CreateFileSystem"),
        ("logs", "GetLogEvents", "logs:GetLogEvents"),
        ("secretsmanager", "CreateSecret", "secretsmanager:CreateSecret"),
        ("s3", "ListObjectsV2", "s3:ListBucket"),
        ("s3", "HeadObject", "s3:GetObject"),
        ("s3", "CreateMultipartUpload", "s3:PutObject"),
        ("batch", "CreateJobQueue", "batch:CreateJobQueue"),
    ],
)
def test_call_to_iam_action(service: str, operation: str, action: str) -> None:
    assert actions_for_call(service, operation)[0] == action


def test_unknown_calls_map_to_nothing() -> None:
    assert iam_prefix("efs") == "elasticfilesystem"
    assert actions_for_call("batch", "FrobnicateQueues") == ()


def test_parse_denial_prefers_the_action_aws_names_as_missing() -> None:
    message = (
        "You are not authorized to perform this operation. User: "
        f"{USER} is not authorized to perform: ec2:CreateLaunchTemplate on resource: "
        "arn:aws:ec2:eu-west-1:123456789012:launch-template/* because no identity-based policy "
        "allows the ec2:CreateTags action. Encoded authorization failure message: AbC"
    )
    assert parse_denial(message) == (
        "ec2:CreateTags",
        "arn:aws:ec2:eu-west-1:123456789012:launch-template/*",
    )
    assert parse_denial("Access Denied") == (None, None)


def test_required_seed_permission_with_resource() -> None:
    message = (
        f"User: {USER} is not authorized to perform: iam:CreateRole on resource: "
        "arn:aws:iam::123456789012:role/TowerForge-abc-ServiceRole because no identity-based "
        "policy allows the iam:CreateRole action"
    )
    hint = access_denied_hint("iam", "CreateRole", message)
    assert hint is not None
    assert hint.startswith(
        "You are missing iam:CreateRole on "
        "arn:aws:iam::123456789012:role/TowerForge-abc-ServiceRole; it is in section "
        "OptionalIAMManagementCanBeRestricted (feature iam-roles, required)."
    )
    assert _statement(hint) == {
        "Sid": "OptionalIAMManagementCanBeRestricted",
        "Effect": "Allow",
        "Action": "iam:CreateRole",
        "Resource": "arn:aws:iam::123456789012:role/TowerForge-*",
    }


def test_pass_role_keeps_the_condition_and_moto_style_lowercase_action() -> None:
    hint = access_denied_hint(
        "batch",
        "CreateComputeEnvironment",
        f"User: {USER} is not authorized to perform: iam:passrole on resource: "
        "arn:aws:iam::123456789012:role/TowerForge-x-ServiceRole",
    )
    assert hint is not None and "You are missing iam:PassRole" in hint
    statement = _statement(hint)
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["batch.amazonaws.com", "ec2.amazonaws.com"]}
    }
    assert statement["Resource"] == "arn:aws:iam::123456789012:role/TowerForge-*"


def test_dependent_action_not_in_the_seed() -> None:
    found = explain(
        "ec2",
        "CreateLaunchTemplate",
        f"User: {USER} is not authorized to perform: ec2:CreateLaunchTemplate on resource: "
        "arn:aws:ec2:eu-west-1:123456789012:launch-template/* because no identity-based policy "
        "allows the ec2:CreateTags action.",
    )
    assert found is not None and found.entry is not None and found.entry.kind == "dependent"
    text = found.text()
    assert (
        "not in the seed's policy" in text
        and "dependent action of ec2:CreateLaunchTemplate" in text
    )
    assert found.statement["Condition"] == {
        "StringEquals": {"ec2:CreateAction": "CreateLaunchTemplate"}
    }


def test_s3_access_denied_without_details_uses_the_call() -> None:
    hint = access_denied_hint("s3", "ListObjectsV2", "Access Denied")
    assert hint is not None
    assert hint.startswith("You are missing s3:ListBucket (AWS did not name the resource)")
    assert "features work-dir, data-explorer, required" in hint


def test_explicit_deny_and_scp() -> None:
    deny = access_denied_hint(
        "iam",
        "PassRole",
        f"User: {USER} is not authorized to perform: iam:PassRole on resource: "
        "arn:aws:iam::123456789012:role/TowerForge-a with an explicit deny in an identity-based "
        "policy",
    )
    assert deny is not None and deny.startswith("An explicit Deny in an identity-based policy")
    assert "Add:" not in deny
    scp = access_denied_hint(
        "logs",
        "GetLogEvents",
        f"User: {USER} is not authorized to perform: logs:GetLogEvents because no service "
        "control policy allows the logs:GetLogEvents action",
    )
    assert scp is not None and "is not allowed by a service control policy" in scp


def test_extras_and_uncatalogued_actions() -> None:
    extra = access_denied_hint(
        "iam",
        "SimulatePrincipalPolicy",
        f"User: {USER} is not authorized to perform: "
        f"iam:SimulatePrincipalPolicy on resource: {USER}",
    )
    assert extra is not None and "OptionalExtraPolicyReading, beyond the seed's policy" in extra
    other = access_denied_hint(
        "iam", "DeleteUser", f"User: {USER} is not authorized to perform: iam:DeleteUser"
    )
    assert other is not None and "catalog does not list this action" in other
    assert access_denied_hint("batch", "FrobnicateQueues", "Access Denied") is None


@pytest.fixture
def limited_user(aws: LocalAws) -> Iterator[tuple[str, str]]:
    """A user allowed only to describe job queues; the emulator's auth on for the test.

    (Emulator releases compare Batch actions case-sensitively, some against the lower-cased
    name, later ones against the documented one: the policy spells the action both ways, which
    IAM, comparing actions case-insensitively, reads as the same action.)"""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["batch:DescribeJobQueues", "batch:describejobqueues"],
                "Resource": "*",
            }
        ],
    }
    user = aws.create_demo_user(json.dumps(policy))
    aws.set_auth(True)
    try:
        yield user.access_key, user.secret_key
    finally:
        aws.set_auth(False)


def test_a_real_access_denied_names_the_section(
    app_ctx: AppContext, limited_user: tuple[str, str]
) -> None:
    from batchforge.aws.session import AwsAuth

    access, secret = limited_user
    auth = AwsAuth(mode="keys", access_key=access, secret_key=secret)
    batch = app_ctx.aws.session(auth, "us-east-1").client("batch")
    batch.describe_job_queues()  # granted
    with pytest.raises(AwsAccessDenied) as denied:
        batch.create_job_queue(
            jobQueueName="TowerForge-x-head",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[],
        )
    hint = denied.value.hint or ""
    assert hint.startswith("You are missing batch:CreateJobQueue")
    assert "section BatchEnvironmentManagementCanBeRestricted (feature forge, required)" in hint
    statement = _statement(hint)
    assert statement["Action"] == "batch:CreateJobQueue"
    # AWS names the concrete ARN; the suggestion keeps its region and account.
    assert any(r.endswith(":job-queue/TowerForge-*") for r in statement["Resource"])
    assert denied.value.to_dict()["hint"] == hint  # what the API returns


def test_without_the_explainer_the_hint_stays_generic() -> None:
    from botocore.exceptions import ClientError

    error = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "ListObjectsV2"
    )
    set_access_denied_explainer(None)
    try:
        assert translate(error, "s3", "ListObjectsV2").hint == (
            "Grant s3:ListObjectsV2 to the credentials' IAM principal."
        )
    finally:
        install()
    assert "s3:ListBucket" in (translate(error, "s3", "ListObjectsV2").hint or "")


def test_process_start_installs_the_explainer(settings: Settings, local_aws: LocalAws) -> None:
    from botocore.exceptions import ClientError

    from batchforge.runtime import build_context

    error = ClientError({"Error": {"Code": "AccessDenied", "Message": ""}}, "ListObjectsV2")
    set_access_denied_explainer(None)
    ctx = build_context(settings, emulator_url=local_aws.url)
    try:
        assert (translate(error, "s3", "ListObjectsV2").hint or "").startswith(
            "You are missing s3:ListBucket"
        )
    finally:
        ctx.db.dispose()
