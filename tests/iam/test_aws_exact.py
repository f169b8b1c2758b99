"""IAM evaluation exactly as AWS documents it (issue #15): one test per case of the issue.

Every case cites the IAM User Guide page it follows; the decisions are checked both on concrete
ARNs (what enforcement in the test layer uses) and on the catalog's resource patterns (what
``policy check`` and preflight use), and the checker's findings say where a policy relies on
something AWS reads differently.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from batchforge.iam.checker import check_policy
from batchforge.iam.evaluator import Decision, PolicyEvaluator
from batchforge.iam.model import Severity
from batchforge.iam.parse import parse_policy
from tests.iam.seed import seed_full_policy_text

ALLOWED, IMPLICIT, EXPLICIT = Decision.ALLOWED, Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY
QUEUES = "arn:aws:batch:*:*:job-queue/TowerForge-*"
QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/TowerForge-abc-work"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def evaluator(*statements: dict[str, Any]) -> PolicyEvaluator:
    parsed = parse_policy(policy(*statements)).policy
    assert parsed is not None
    return PolicyEvaluator(parsed.statements)


def decide(
    statements: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, Any] | None = None,
    *,
    pattern: bool = False,
) -> Decision:
    found = evaluator(*statements).evaluate(action, resource, context, resource_is_pattern=pattern)
    return found.decision


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def codes(report: Any, severity: Severity | None = None) -> list[str]:
    return [f.code for f in report.findings if severity is None or f.severity is severity]


def seed_with(*statements: dict[str, Any]) -> str:
    doc = json.loads(seed_full_policy_text())
    doc["Statement"].extend(statements)
    return json.dumps(doc, indent=1)


# -- 1. wildcards in the resource type ---------------------------------------------------------


def test_wildcard_in_the_resource_type_matches_nothing() -> None:
    """IAM User Guide, "IAM JSON policy elements: Resource" (wildcards are used *within* ARN
    segments) and the Service Authorization Reference's ARN formats (``job-queue/${Name}``):
    the resource type is fixed text; AWS does not allow a wildcard there.  Such an entry
    grants nothing, so ``policy check`` must not pass it (it did: false pass)."""
    grant = [allow("batch:*", "arn:aws:batch:*:*:*/TowerForge-*")]
    assert decide(grant, "batch:SubmitJob", QUEUE) is IMPLICIT
    assert decide(grant, "batch:SubmitJob", QUEUES, pattern=True) is IMPLICIT
    report = check_policy(policy(*grant), ["launch"])
    assert not report.ok
    assert "wildcard-in-resource-type" in codes(report, Severity.ERROR)
    # a wildcard for the whole resource part, or after the type, still works
    assert decide([allow("batch:*", "arn:aws:batch:*:*:*")], "batch:SubmitJob", QUEUE) is ALLOWED
    whole_type = [allow("batch:*", "arn:aws:batch:*:*:job-queue/*")]
    assert decide(whole_type, "batch:SubmitJob", QUEUES, pattern=True) is ALLOWED


def test_bucket_names_are_not_resource_types() -> None:
    """IAM User Guide, "IAM JSON policy elements: Resource": ``arn:aws:s3:::example?bucket/*``
    is a documented example -- S3 object ARNs start with the bucket name, not a type."""
    grant = [allow("s3:GetObject", "arn:aws:s3:::work-*/*")]
    assert decide(grant, "s3:GetObject", "arn:aws:s3:::work-1/a/b.txt") is ALLOWED
    report = check_policy(policy(*grant), ["launch"])
    assert "wildcard-in-resource-type" not in codes(report)


# -- 2. ${*} is the literal asterisk -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("build*", ALLOWED), ("buildx", IMPLICIT), ("build", IMPLICIT)],
)
def test_star_variable_in_a_condition_is_a_literal_asterisk(value: str, expected: str) -> None:
    """IAM User Guide, "IAM policy elements: Variables and tags", special characters:
    ``${*}`` represents the ``*`` character itself (to match it where ``*`` is a wildcard)."""
    grant = [
        allow("s3:GetObject", Condition={"StringLike": {"aws:PrincipalTag/team": "build${*}"}})
    ]
    ctx = {"aws:PrincipalTag/team": value}
    assert decide(grant, "s3:GetObject", "arn:aws:s3:::b/k", ctx) is expected


def test_substituted_values_are_literal_in_string_like() -> None:
    """IAM User Guide, "Variables and tags": the variable is replaced by the request value;
    a ``*`` inside that value is text, not a wildcard."""
    grant = [
        allow(
            "s3:GetObject",
            Condition={"StringLike": {"aws:PrincipalTag/team": "${aws:PrincipalTag/owner}"}},
        )
    ]
    same = {"aws:PrincipalTag/team": "a*", "aws:PrincipalTag/owner": "a*"}
    wild = {"aws:PrincipalTag/team": "abc", "aws:PrincipalTag/owner": "a*"}
    assert decide(grant, "s3:GetObject", "arn:aws:s3:::b/k", same) is ALLOWED
    assert decide(grant, "s3:GetObject", "arn:aws:s3:::b/k", wild) is IMPLICIT


# -- 3. undefined condition operators ----------------------------------------------------------


def test_undefined_condition_operator_never_applies() -> None:
    """IAM User Guide, "IAM JSON policy elements: Condition operators" lists the operators;
    IAM refuses a document with any other (MalformedPolicyDocument).  Dropping the unknown
    operator made the statement unconditional; a clause IAM cannot evaluate never holds."""
    typo = {"StringEqual": {"iam:PassedToService": "batch.amazonaws.com"}}
    grant = [allow("iam:PassRole", "*", Condition=typo)]
    ctx = {"iam:PassedToService": "batch.amazonaws.com"}
    role = "arn:aws:iam::123456789012:role/TowerForge-x"
    assert decide(grant, "iam:PassRole", role, ctx) is IMPLICIT
    fenced = [allow("iam:PassRole"), deny("iam:PassRole", Condition=typo)]
    assert decide(fenced, "iam:PassRole", role, ctx) is ALLOWED
    report = check_policy(policy(*grant), ["forge"])
    assert "unknown-condition-operator" in codes(report, Severity.ERROR)
    assert not report.ok


# -- 4. policy variables only in the resource part ---------------------------------------------


def test_variables_are_replaced_only_after_the_fifth_colon() -> None:
    """IAM User Guide, "Variables and tags": in the Resource element a variable can be used
    only in the resource part of the ARN (after the fifth colon), not for the region or the
    account.  Before it the text stays as written and matches no real ARN."""
    ctx = {"aws:RequestedRegion": "us-east-1", "aws:PrincipalAccount": "123456789012"}
    early = [allow("batch:SubmitJob", "arn:aws:batch:${aws:RequestedRegion}:*:job-queue/*")]
    assert decide(early, "batch:SubmitJob", QUEUE, ctx) is IMPLICIT
    late = [allow("batch:SubmitJob", "arn:aws:batch:*:*:job-queue/${aws:RequestedRegion}-*")]
    queue = "arn:aws:batch:us-east-1:123456789012:job-queue/us-east-1-work"
    assert decide(late, "batch:SubmitJob", queue, ctx) is ALLOWED
    report = check_policy(policy(*early), ["launch"])
    assert "variable-outside-resource-part" in codes(report, Severity.WARNING)


# -- 5. plain operators on multivalued keys ----------------------------------------------------


def test_plain_operator_on_a_multivalued_key_is_not_a_set_operator() -> None:
    """IAM User Guide, "Single-valued vs. multivalued context keys": ``aws:TagKeys`` is
    multivalued, and multivalued keys require ``ForAnyValue``/``ForAllValues``.  A plain
    ``StringEquals`` compares one value: with several request values it does not match (it was
    read as ForAnyValue); its negation then holds."""
    grant = [allow("ec2:CreateTags", Condition={"StringEquals": {"aws:TagKeys": ["a", "b"]}})]
    one, two = {"aws:TagKeys": ["a"]}, {"aws:TagKeys": ["a", "b"]}
    assert decide(grant, "ec2:CreateTags", "*", one) is ALLOWED
    assert decide(grant, "ec2:CreateTags", "*", two) is IMPLICIT
    fence = [allow("ec2:CreateTags"), deny("ec2:CreateTags", Condition={"StringNotEquals": {
        "aws:TagKeys": ["a", "b"]}})]  # fmt: skip
    assert decide(fence, "ec2:CreateTags", "*", one) is ALLOWED
    assert decide(fence, "ec2:CreateTags", "*", two) is EXPLICIT
    any_value = [
        allow("ec2:CreateTags", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}})
    ]
    assert decide(any_value, "ec2:CreateTags", "*", two) is ALLOWED
    report = check_policy(policy(*grant), ["forge"])
    assert "multivalued-key-without-set-operator" in codes(report, Severity.WARNING)


# -- 6. Deny on a specific ARN vs actions without resource types -------------------------------


def test_deny_on_specific_arns_does_not_touch_actions_without_resource_types() -> None:
    """Service Authorization Reference, "Actions table": an action with no resource type
    needs ``"Resource": "*"``; its request resource is ``*``, which a Deny on
    ``arn:aws:ec2:*:*:vpc/vpc-prod*`` does not match.  (It was counted as denying them:
    12 required permissions reported missing.)"""
    guard = deny("ec2:*", "arn:aws:ec2:*:*:vpc/vpc-prod*")
    assert decide([allow("ec2:*"), guard], "ec2:DescribeVpcs", "*", pattern=True) is ALLOWED
    report = check_policy(seed_with(guard))
    assert report.ok and report.missing(required=True) == []
    # a NotResource Deny covers everything outside its list, "*" included
    fence = {"Effect": "Deny", "Action": "ec2:*", "NotResource": "arn:aws:ec2:*:*:vpc/vpc-1"}
    assert decide([allow("ec2:*"), fence], "ec2:DescribeVpcs", "*", pattern=True) is EXPLICIT
    # and an Allow on ARNs only does not grant them
    arns_only = [allow("ec2:DescribeVpcs", "arn:*")]
    assert decide(arns_only, "ec2:DescribeVpcs", "*", pattern=True) is IMPLICIT


# -- 7. * in region/account does not span a colon ----------------------------------------------


def test_star_in_region_or_account_stays_in_its_segment() -> None:
    """IAM User Guide, "IAM JSON policy elements: Resource": wildcards are used within the
    individual segments of an ARN (the parts separated by colons).  ``Deny batch:* on
    arn:aws:batch:*:*:job-queue/Other-*`` therefore leaves ``TowerForge-*`` queues and job
    definition revisions alone (21 required permissions were reported denied)."""
    guard = deny("batch:*", "arn:aws:batch:*:*:job-queue/Other-*")
    fenced = [allow("batch:*"), guard]
    assert decide(fenced, "batch:SubmitJob", QUEUES, pattern=True) is ALLOWED
    revisions = "arn:aws:batch:*:*:job-definition/batchforge-nf-head-*:*"
    assert decide(fenced, "batch:DeregisterJobDefinition", revisions, pattern=True) is ALLOWED
    other = "arn:aws:batch:*:*:job-queue/Other-*"
    assert decide(fenced, "batch:SubmitJob", other, pattern=True) is EXPLICIT
    report = check_policy(seed_with(guard))
    assert report.ok and report.missing(required=True) == []
    assert not [r for r in report.results if r.evaluation.decision is EXPLICIT]


def test_trailing_star_of_a_short_arn_spans_the_remaining_parts() -> None:
    """IAM User Guide, "IAM JSON policy elements: Resource": a ``*`` that is the last
    character can expand beyond the colon boundaries -- ``arn:aws:batch:*`` covers every
    Batch ARN, region, account and resource included."""
    short = [allow("batch:*", "arn:aws:batch:*")]
    assert decide(short, "batch:SubmitJob", QUEUE) is ALLOWED
    assert decide(short, "batch:SubmitJob", QUEUES, pattern=True) is ALLOWED
    stream = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/batch/job:log-stream:x"
    logs = [allow("logs:GetLogEvents", "arn:aws:logs:*:*:log-group:/aws/batch/job:*")]
    assert decide(logs, "logs:GetLogEvents", stream) is ALLOWED


# -- 8. upper case in arn, partition, service, region ------------------------------------------


def test_upper_case_arn_parts_never_match_and_are_reported() -> None:
    """IAM User Guide, "Identify AWS resources with ARNs" (partitions ``aws``, ``aws-cn``,
    ``aws-us-gov``; service namespaces and Region codes are lower case) and "Condition
    operators" (ARN matching is case-sensitive): ``arn:aws:BATCH:US-EAST-1:...`` matches no
    real ARN, so the check must not pass on it, and says why."""
    upper = [allow("batch:*", "arn:aws:BATCH:US-EAST-1:*:job-queue/*")]
    assert decide(upper, "batch:SubmitJob", QUEUE) is IMPLICIT
    assert decide(upper, "batch:SubmitJob", QUEUES, pattern=True) is IMPLICIT
    report = check_policy(policy(*upper), ["launch"])
    assert not report.ok
    remark = next(f for f in report.findings if f.code == "arn-upper-case")
    assert remark.severity is Severity.WARNING
    assert "service, region" in remark.message
    partition = check_policy(policy(allow("batch:*", "arn:AWS:batch:*:*:job-queue/*")))
    bad = next(f for f in partition.findings if f.code == "invalid-arn")
    assert "lower case" in bad.message
    prefix = check_policy(policy(allow("batch:*", "ARN:aws:batch:*:*:job-queue/*")))
    bad = next(f for f in prefix.findings if f.code == "invalid-arn")
    assert "lower case" in bad.message


# -- the pattern path agrees with the concrete ARNs ---------------------------------------------


def test_a_pattern_allowed_by_several_entries_together_is_allowed() -> None:
    """IAM User Guide, "Policy evaluation logic": each request is decided for its own ARN.  If
    every queue a pattern stands for is allowed by one entry or another, every request the
    pattern stands for succeeds -- the pattern path says so too (it used to require a single
    entry covering all of it)."""
    prefix = "arn:aws:batch:*:*:job-queue/TowerForge-a*"
    split = [
        allow("batch:SubmitJob", prefix),
        {"Effect": "Allow", "Action": "batch:SubmitJob", "NotResource": prefix},
    ]
    found = evaluator(*split).evaluate("batch:SubmitJob", QUEUES)
    assert found.decision is ALLOWED
    assert "statement #1 and statement #2" in found.reason
    two_entries = [allow("batch:SubmitJob", [prefix, "arn:aws:batch:*:*:job-queue/TowerForge-"])]
    assert decide(two_entries, "batch:SubmitJob", QUEUES, pattern=True) is IMPLICIT  # -b1 left
    b1 = "arn:aws:batch:us-east-1:123456789012:job-queue/TowerForge-b1"
    assert decide(two_entries, "batch:SubmitJob", b1) is IMPLICIT
    assert decide(two_entries, "batch:SubmitJob", QUEUE) is ALLOWED
