"""The live check against the emulator: read policies when the simulator is unavailable, say
what could not be read, use the simulator when AWS answers it (a test hook plays AWS there)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from batchforge.aws.recorder import AwsCall, CallRecorder
from batchforge.aws.session import AwsAuth, AwsEnvironment
from batchforge.iam.catalog_model import resolve_features
from batchforge.iam.evaluator import PolicyEvaluator
from batchforge.iam.live import PreflightReport, Verdict
from batchforge.iam.parse import parse_policy
from batchforge.local_aws import ACCOUNT_ID, LocalAws
from batchforge.services.permissions import check_session
from tests.awsrules import FakeHttp, aws_error
from tests.factories import fake_keys
from tests.iam.users import READ_EXTRAS, SEED, emulator_auth, make_user, without

FORGE = resolve_features(mode="forge")


@pytest.fixture
def iam_user(aws: LocalAws) -> Iterator[Callable[..., AwsAuth]]:
    """Make an IAM user (see :func:`tests.iam.users.make_user`), then turn the emulator's
    authentication on for the rest of the test."""

    def make(**policies: Any) -> AwsAuth:
        auth = make_user(aws, **policies)
        aws.set_auth(True)
        return auth

    with emulator_auth(aws):
        aws.set_auth(False)  # users are made first; make() turns it on
        yield make


@pytest.fixture
def env(aws: LocalAws) -> AwsEnvironment:
    """The AWS layer alone (no database: the check itself stores nothing)."""
    return AwsEnvironment(endpoint_url=aws.url, recorder=CallRecorder())


def calls(env: AwsEnvironment) -> list[AwsCall]:
    assert env.recorder is not None
    return list(env.recorder.calls)


def run(env: AwsEnvironment, auth: AwsAuth, features: tuple[str, ...] = FORGE) -> PreflightReport:
    assert env.recorder is not None
    before = env.recorder.count()
    report = check_session(env.session(auth, "us-east-1"), features)
    assert report.calls == env.recorder.count() - before  # the count is exact
    return report


def verdict(report: PreflightReport, action: str) -> set[Verdict]:
    return {c.verdict for c in report.checks if c.permission.action == action}


def test_seed_policy_passes_by_reading_the_policies(
    env: AwsEnvironment, iam_user: Callable[..., AwsAuth]
) -> None:
    report = run(env, iam_user(managed=SEED, inline=READ_EXTRAS))
    assert report.principal is not None and report.principal.kind == "user"
    assert report.ok and report.complete and report.method == "policies"
    assert report.headline().startswith("PASSED")
    assert verdict(report, "batch:CreateJobQueue") == {Verdict.ALLOWED}
    assert verdict(report, "iam:PassRole") == {Verdict.ALLOWED}  # both PassedToService values
    assert any("SimulatePrincipalPolicy is unavailable here" in n for n in report.notes)
    assert any(
        n.startswith("Read 2 policies: user alice inline inline, alice-managed")
        for n in report.notes
    )
    # The seed's known gap shows as a warning, never as a blocker.
    assert any("ec2:CreateTags" in w and "dependent action" in w for w in report.warnings)
    assert report.calls == 8  # STS, simulator, 2 inline, 3 managed, groups
    assert report.scope.account == ACCOUNT_ID and report.scope.region == "us-east-1"


def test_missing_required_permission_blocks_with_its_section(
    env: AwsEnvironment, iam_user: Callable[..., AwsAuth]
) -> None:
    policy = without(without(SEED, "batch:CreateJobQueue"), "logs:FilterLogEvents")
    report = run(env, iam_user(managed=policy, inline=READ_EXTRAS), (*FORGE, "logs"))
    # On the job queue and on the compute environment it is attached to:
    assert not report.ok and report.headline() == "FAILED: 2 required permissions missing"
    (blocking,) = report.blocking
    assert "Feature 'forge' needs batch:CreateJobQueue" in blocking
    assert "section BatchEnvironmentManagementCanBeRestricted" in blocking
    assert any(
        w.startswith("Feature 'logs' is limited without logs:FilterLogEvents")
        for w in report.warnings
    )
    assert verdict(report, "batch:CreateComputeEnvironment") == {Verdict.ALLOWED}


def test_nothing_readable_leaves_every_permission_unknown_and_says_why(
    env: AwsEnvironment, iam_user: Callable[..., AwsAuth]
) -> None:
    report = run(env, iam_user(managed=SEED))  # exactly the seed: no reading extras
    assert report.ok and not report.complete and report.method == "none"
    assert {c.verdict for c in report.checks} == {Verdict.UNKNOWN}
    notes = "\n".join(report.notes)
    assert "iam:SimulatePrincipalPolicy is not granted (section OptionalExtraPolicyReading" in notes
    assert (
        "Could not read the user alice's inline policies: iam:ListUserPolicies is not granted"
        in notes
    )
    assert "iam:ListAttachedUserPolicies is not granted" in notes
    assert "iam:ListGroupsForUser is not granted" in notes


def test_partial_reading_keeps_what_was_allowed(
    env: AwsEnvironment, iam_user: Callable[..., AwsAuth]
) -> None:
    readable = without(READ_EXTRAS, "iam:ListGroupsForUser")
    report = run(
        env,
        iam_user(inline={**readable, "Statement": [*readable["Statement"], *SEED["Statement"]]}),
    )
    assert verdict(report, "batch:CreateJobQueue") == {Verdict.ALLOWED}
    assert verdict(report, "ec2:CreateTags") == {Verdict.UNKNOWN}  # a group might grant it
    assert any("iam:ListGroupsForUser is not granted" in n for n in report.notes)


def test_group_policies_are_read(env: AwsEnvironment, iam_user: Callable[..., AwsAuth]) -> None:
    report = run(env, iam_user(inline=READ_EXTRAS, group_managed=SEED))
    assert report.ok and report.complete
    assert any("alice-group-managed" in n for n in report.notes)


def test_assumed_role_is_checked_as_its_role(
    env: AwsEnvironment, aws: LocalAws, iam_user: Callable[..., AwsAuth]
) -> None:
    iam = aws.boto_client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="Batchforge", AssumeRolePolicyDocument=json.dumps(trust))
    arn = iam.create_policy(PolicyName="seed", PolicyDocument=json.dumps(SEED))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="Batchforge", PolicyArn=arn)
    iam.put_role_policy(
        RoleName="Batchforge", PolicyName="read", PolicyDocument=json.dumps(READ_EXTRAS)
    )
    assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    user = iam_user(inline=assume)
    auth = AwsAuth("role", user.access_key, user.secret_key, role["Role"]["Arn"])
    report = run(env, auth)
    assert report.principal is not None
    assert (report.principal.kind, report.principal.name) == ("role", "Batchforge")
    assert report.principal.caller_arn.startswith(
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/Batchforge/"
    )
    assert report.ok and report.complete and report.method == "policies"
    assert any(
        n.startswith("Read 2 policies: role Batchforge inline read, seed") for n in report.notes
    )


# --- the simulator, answered by a test hook as AWS would -------------------------------------


class FakeSimulator:
    """Answers ``iam:SimulatePrincipalPolicy`` from a policy, with batchforge's evaluator."""

    def __init__(self, policy: dict[str, Any], known_arn: str | None = None):
        parsed = parse_policy(json.dumps(policy)).policy
        assert parsed is not None
        self.evaluator = PolicyEvaluator.for_policies([parsed])
        self.known_arn = known_arn
        self.requests: list[dict[str, Any]] = []

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [
            ("provide-client-params.iam.SimulatePrincipalPolicy", self._capture),
            ("before-call.iam.SimulatePrincipalPolicy", self._answer),
        ]

    @staticmethod
    def _capture(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["simulated"] = dict(params)

    def _answer(self, context: dict[str, Any], **_: Any) -> Any:
        params = context["simulated"]
        self.requests.append(params)
        if self.known_arn and params["PolicySourceArn"] != self.known_arn:
            return aws_error("NoSuchEntity", "The role with name X cannot be found.", 404)
        request_context = {
            e["ContextKeyName"]: e["ContextKeyValues"] for e in params.get("ContextEntries", [])
        }
        results = [
            {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": "allowed"
                if self.evaluator.evaluate(
                    action, resource, request_context, resource_is_pattern=False
                ).allowed
                else "implicitDeny",
            }
            for action in params["ActionNames"]
            for resource in params.get("ResourceArns", ["*"])
        ]
        body = {"EvaluationResults": results, "IsTruncated": False}
        return FakeHttp(200), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


def test_simulator_decides_when_available(env: AwsEnvironment, aws: LocalAws) -> None:
    simulator = FakeSimulator(without(SEED, "batch:CreateJobQueue"))
    env.event_hooks.extend(simulator.hooks())
    iam = aws.boto_client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    auth = AwsAuth("keys", key["AccessKeyId"], key["SecretAccessKey"])
    report = run(env, auth, (*FORGE, "efs"))
    assert report.method == "simulator", report.notes
    batch = f"arn:aws:batch:us-east-1:{ACCOUNT_ID}"
    assert [b.split(" (")[0] for b in report.blocking] == [
        f"Feature 'forge' needs batch:CreateJobQueue on {batch}:compute-environment/TowerForge-*;"
        f" batch:CreateJobQueue on {batch}:job-queue/TowerForge-*"
    ]
    assert report.calls == 1 + len(simulator.requests)  # STS, then one call per batch
    assert len(simulator.requests) <= 5
    assert all(r["MaxItems"] == 1000 for r in simulator.requests)  # one page per batch
    assert not any(c.name.startswith("iam:List") for c in calls(env))
    pass_role = [r for r in simulator.requests if r.get("ContextEntries")]
    assert {r["ContextEntries"][0]["ContextKeyValues"][0] for r in pass_role} == {
        "batch.amazonaws.com",
        "ec2.amazonaws.com",
    }
    arns = [a for r in simulator.requests for a in r["ResourceArns"]]
    assert all(a == "*" or "*" not in a for a in arns)  # concrete sample ARNs
    assert {r["PolicySourceArn"] for r in simulator.requests} == {
        f"arn:aws:iam::{ACCOUNT_ID}:user/" + report.principal.name  # type: ignore[union-attr]
    }


def test_simulator_finds_the_roles_path(env: AwsEnvironment, aws: LocalAws) -> None:
    iam = aws.boto_client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(
        RoleName="Batchforge", Path="/team/", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    simulator = FakeSimulator(SEED, known_arn=role)
    env.event_hooks.extend(simulator.hooks())
    keys = fake_keys()
    report = run(env, AwsAuth("role", keys.access_key, keys.secret_key, role), FORGE)
    assert report.method == "simulator" and report.ok
    assert report.principal is not None and report.principal.iam_arn == role
    assert simulator.requests[0]["PolicySourceArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/Batchforge"
    assert any(c.name == "iam:GetRole" for c in calls(env))
