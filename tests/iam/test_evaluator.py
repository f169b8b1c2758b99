"""IAM evaluation logic: a table of cases from the IAM User Guide, plus properties."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchforge.iam.evaluator import Decision, PolicyEvaluator
from batchforge.iam.parse import parse_policy

ALLOWED, IMPLICIT, EXPLICIT = Decision.ALLOWED, Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY
QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/TowerForge-abc-head"


def evaluator(*statements: dict[str, Any], version: str = "2012-10-17") -> PolicyEvaluator:
    text = json.dumps({"Version": version, "Statement": list(statements)})
    policy = parse_policy(text, validate_actions=False).policy
    assert policy is not None
    return PolicyEvaluator(policy.statements, variables=policy.supports_variables)


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


CASES: list[tuple[str, list[dict[str, Any]], str, str, dict[str, Any], Decision]] = [
    ("default deny", [], "s3:GetObject", "arn:aws:s3:::b/k", {}, IMPLICIT),
    ("allow applies", [allow("s3:GetObject")], "s3:GetObject", "arn:aws:s3:::b/k", {}, ALLOWED),
    ("other action", [allow("s3:GetObject")], "s3:PutObject", "arn:aws:s3:::b/k", {}, IMPLICIT),
    ("deny wins", [allow("s3:*"), deny("s3:GetObject")], "s3:GetObject", "*", {}, EXPLICIT),
    (
        "deny order irrelevant",
        [deny("s3:GetObject"), allow("*")],
        "s3:GetObject",
        "*",
        {},
        EXPLICIT,
    ),
    (
        "deny other action",
        [allow("s3:*"), deny("s3:DeleteObject")],
        "s3:GetObject",
        "*",
        {},
        ALLOWED,
    ),
    ("action case-insensitive", [allow("S3:getOBJECT")], "s3:GetObject", "*", {}, ALLOWED),
    ("action ? wildcard", [allow("s3:?etObject")], "s3:GetObject", "*", {}, ALLOWED),
    (
        "resource case-sensitive",
        [allow("s3:GetObject", "arn:aws:s3:::Bucket/*")],
        "s3:GetObject",
        "arn:aws:s3:::bucket/k",
        {},
        IMPLICIT,
    ),
    (
        "NotAction allow",
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        "s3:GetObject",
        "*",
        {},
        ALLOWED,
    ),
    (
        "NotAction excludes",
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        "iam:CreateUser",
        "*",
        {},
        IMPLICIT,
    ),
    (
        "NotResource deny hits others",
        [allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::safe/*"}],
        "s3:GetObject",
        "arn:aws:s3:::other/k",
        {},
        EXPLICIT,
    ),
    (
        "NotResource deny spares listed",
        [allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::safe/*"}],
        "s3:GetObject",
        "arn:aws:s3:::safe/k",
        {},
        ALLOWED,
    ),
    (
        "condition met",
        [
            allow(
                "iam:PassRole",
                Condition={
                    "StringEquals": {
                        "iam:PassedToService": ["batch.amazonaws.com", "ec2.amazonaws.com"]
                    }
                },
            )
        ],
        "iam:PassRole",
        "*",
        {"iam:PassedToService": "ec2.amazonaws.com"},
        ALLOWED,
    ),
    (
        "condition values OR-ed, not met",
        [
            allow(
                "iam:PassRole",
                Condition={
                    "StringEquals": {
                        "iam:PassedToService": ["batch.amazonaws.com", "ec2.amazonaws.com"]
                    }
                },
            )
        ],
        "iam:PassRole",
        "*",
        {"iam:PassedToService": "lambda.amazonaws.com"},
        IMPLICIT,
    ),
    (
        "condition key absent",
        [
            allow(
                "iam:PassRole",
                Condition={"StringEquals": {"iam:PassedToService": "batch.amazonaws.com"}},
            )
        ],
        "iam:PassRole",
        "*",
        {},
        IMPLICIT,
    ),
    (
        "condition key name case-insensitive",
        [
            allow(
                "iam:PassRole",
                Condition={"StringEquals": {"IAM:passedtoservice": "batch.amazonaws.com"}},
            )
        ],
        "iam:PassRole",
        "*",
        {"iam:PassedToService": "batch.amazonaws.com"},
        ALLOWED,
    ),
    (
        "StringEquals value case-sensitive",
        [allow("s3:*", Condition={"StringEquals": {"aws:username": "Alice"}})],
        "s3:GetObject",
        "*",
        {"aws:username": "alice"},
        IMPLICIT,
    ),
    (
        "StringEqualsIgnoreCase",
        [allow("s3:*", Condition={"StringEqualsIgnoreCase": {"aws:username": "Alice"}})],
        "s3:GetObject",
        "*",
        {"aws:username": "alice"},
        ALLOWED,
    ),
    (
        "keys AND-ed",
        [
            allow(
                "s3:*", Condition={"StringEquals": {"aws:username": "a", "aws:PrincipalTag/t": "x"}}
            )
        ],
        "s3:GetObject",
        "*",
        {"aws:username": "a"},
        IMPLICIT,
    ),
    (
        "operators AND-ed",
        [
            allow(
                "s3:*",
                Condition={
                    "StringLike": {"aws:username": "a*"},
                    "Bool": {"aws:SecureTransport": "true"},
                },
            )
        ],
        "s3:GetObject",
        "*",
        {"aws:username": "abc", "aws:SecureTransport": "true"},
        ALLOWED,
    ),
    (
        "negated operator, key absent: true",
        [allow("s3:*", Condition={"StringNotEquals": {"aws:username": "bob"}})],
        "s3:GetObject",
        "*",
        {},
        ALLOWED,
    ),
    (
        "StringNotLike present and matching",
        [allow("s3:*", Condition={"StringNotLike": {"aws:username": "b*"}})],
        "s3:GetObject",
        "*",
        {"aws:username": "bob"},
        IMPLICIT,
    ),
    (
        "IfExists, key absent: true",
        [
            allow(
                "batch:SubmitJob",
                Condition={"StringEqualsIfExists": {"aws:ResourceTag/team": "gen"}},
            )
        ],
        "batch:SubmitJob",
        QUEUE,
        {},
        ALLOWED,
    ),
    (
        "IfExists, key present and wrong",
        [
            allow(
                "batch:SubmitJob",
                Condition={"StringEqualsIfExists": {"aws:ResourceTag/team": "gen"}},
            )
        ],
        "batch:SubmitJob",
        QUEUE,
        {"aws:ResourceTag/team": "other"},
        IMPLICIT,
    ),
    (
        "Null true, key absent",
        [allow("s3:*", Condition={"Null": {"aws:TokenIssueTime": "true"}})],
        "s3:GetObject",
        "*",
        {},
        ALLOWED,
    ),
    (
        "Null false, key absent",
        [allow("s3:*", Condition={"Null": {"aws:TokenIssueTime": "false"}})],
        "s3:GetObject",
        "*",
        {},
        IMPLICIT,
    ),
    (
        "ForAllValues, key absent: true",
        [allow("s3:*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}})],
        "s3:GetObject",
        "*",
        {},
        ALLOWED,
    ),
    (
        "ForAllValues, one value outside",
        [allow("s3:*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}})],
        "s3:GetObject",
        "*",
        {"aws:TagKeys": ["a", "c"]},
        IMPLICIT,
    ),
    (
        "ForAnyValue, key absent: false",
        [allow("s3:*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}})],
        "s3:GetObject",
        "*",
        {},
        IMPLICIT,
    ),
    (
        "ForAnyValue, one value inside",
        [allow("s3:*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}})],
        "s3:GetObject",
        "*",
        {"aws:TagKeys": ["z", "a"]},
        ALLOWED,
    ),
    (
        "NumericLessThan",
        [allow("s3:*", Condition={"NumericLessThan": {"s3:max-keys": "10"}})],
        "s3:ListBucket",
        "*",
        {"s3:max-keys": "5"},
        ALLOWED,
    ),
    (
        "NumericGreaterThanEquals not met",
        [allow("s3:*", Condition={"NumericGreaterThanEquals": {"s3:max-keys": "10"}})],
        "s3:ListBucket",
        "*",
        {"s3:max-keys": "5"},
        IMPLICIT,
    ),
    (
        "DateLessThan",
        [allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})],
        "s3:GetObject",
        "*",
        {"aws:CurrentTime": "2026-05-01T12:00:00Z"},
        ALLOWED,
    ),
    (
        "IpAddress",
        [allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
        "s3:GetObject",
        "*",
        {"aws:SourceIp": "10.1.2.3"},
        ALLOWED,
    ),
    (
        "NotIpAddress deny applies",
        [allow("s3:*"), deny("s3:*", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
        "s3:GetObject",
        "*",
        {"aws:SourceIp": "192.168.1.1"},
        EXPLICIT,
    ),
    (
        "deny whose condition fails does not apply",
        [allow("s3:*"), deny("s3:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})],
        "s3:GetObject",
        "*",
        {"aws:MultiFactorAuthPresent": "true"},
        ALLOWED,
    ),
    (
        "ArnLike per component",
        [
            allow(
                "iam:PassRole",
                Condition={"ArnLike": {"aws:SourceArn": "arn:aws:batch:*:123456789012:*"}},
            )
        ],
        "iam:PassRole",
        "*",
        {"aws:SourceArn": QUEUE},
        ALLOWED,
    ),
    (
        "ArnNotEquals",
        [allow("iam:PassRole", Condition={"ArnNotEquals": {"aws:SourceArn": QUEUE}})],
        "iam:PassRole",
        "*",
        {"aws:SourceArn": QUEUE},
        IMPLICIT,
    ),
    (
        "policy variable in resource",
        [allow("iam:GetUser", "arn:aws:iam::1:user/${aws:username}")],
        "iam:GetUser",
        "arn:aws:iam::1:user/alice",
        {"aws:username": "alice"},
        ALLOWED,
    ),
    (
        "policy variable for someone else",
        [allow("iam:GetUser", "arn:aws:iam::1:user/${aws:username}")],
        "iam:GetUser",
        "arn:aws:iam::1:user/bob",
        {"aws:username": "alice"},
        IMPLICIT,
    ),
    (
        "policy variable missing: no match",
        [allow("iam:GetUser", "arn:aws:iam::1:user/${aws:username}")],
        "iam:GetUser",
        "arn:aws:iam::1:user/alice",
        {},
        IMPLICIT,
    ),
    (
        "policy variable default",
        [allow("iam:GetUser", "arn:aws:iam::1:user/${aws:username, 'nobody'}")],
        "iam:GetUser",
        "arn:aws:iam::1:user/nobody",
        {},
        ALLOWED,
    ),
    (
        "policy variable in condition",
        [allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": "home/${aws:username}/*"}})],
        "s3:ListBucket",
        "*",
        {"s3:prefix": "home/alice/x", "aws:username": "alice"},
        ALLOWED,
    ),
]


@pytest.mark.parametrize(
    ("statements", "action", "resource", "context", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_evaluation_logic(
    statements: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, Any],
    expected: Decision,
) -> None:
    result = evaluator(*statements).evaluate(action, resource, context, resource_is_pattern=False)
    assert result.decision is expected, result.reason


def test_policy_variables_are_literal_in_version_2008() -> None:
    ev = evaluator(
        allow("iam:GetUser", "arn:aws:iam::1:user/${aws:username}"), version="2008-10-17"
    )
    result = ev.evaluate("iam:GetUser", "arn:aws:iam::1:user/alice", {"aws:username": "alice"})
    assert result.decision is IMPLICIT


def test_deciding_statement_is_named() -> None:
    ev = evaluator({"Sid": "A", **allow("s3:*")}, {"Sid": "D", **deny("s3:DeleteObject")})
    assert ev.evaluate("s3:GetObject", "*").sid == "A"
    denied = ev.evaluate("s3:DeleteObject", "*")
    assert denied.sid == "D"
    assert denied.statement_index == 1
    assert "D" in denied.reason


@pytest.mark.parametrize(
    ("granted", "pattern", "expected"),
    [
        (
            "arn:aws:batch:*:*:job-queue/TowerForge-*",
            "arn:aws:batch:*:*:job-queue/TowerForge-*",
            ALLOWED,
        ),
        ("arn:aws:batch:*:*:job-queue/*", "arn:aws:batch:*:*:job-queue/TowerForge-*", ALLOWED),
        (
            "arn:aws:batch:*:*:job-queue/TowerForge-head",
            "arn:aws:batch:*:*:job-queue/TowerForge-*",
            IMPLICIT,
        ),
        (
            "arn:aws:batch:us-east-1:*:job-queue/*",
            "arn:aws:batch:*:*:job-queue/TowerForge-*",
            IMPLICIT,
        ),
    ],
)
def test_required_patterns_must_be_contained(
    granted: str, pattern: str, expected: Decision
) -> None:
    result = evaluator(allow("batch:SubmitJob", granted)).evaluate("batch:SubmitJob", pattern)
    assert result.decision is expected
    if expected is IMPLICIT:
        assert result.near_miss is not None
        assert "only for some" in result.reason


def test_deny_overlapping_part_of_a_pattern_wins() -> None:
    ev = evaluator(allow("batch:*"), deny("batch:SubmitJob", "arn:aws:batch:*:*:job-queue/*prod*"))
    result = ev.evaluate("batch:SubmitJob", "arn:aws:batch:*:*:job-queue/TowerForge-*")
    assert result.decision is EXPLICIT
    assert "part of the resources" in result.reason


def test_several_policies_are_evaluated_together() -> None:
    a = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [allow("s3:*")]})).policy
    b = parse_policy(
        json.dumps({"Version": "2012-10-17", "Statement": [deny("s3:DeleteObject")]})
    ).policy
    assert a is not None and b is not None
    ev = PolicyEvaluator.for_policies([a, b])
    assert ev.evaluate("s3:GetObject").allowed
    assert ev.evaluate("s3:DeleteObject").decision is EXPLICIT


def test_malformed_statements_never_grant() -> None:
    ev = evaluator(
        {"Effect": "Allow", "Action": "s3:*"},
        {"Effect": "allow", "Action": "ec2:*", "Resource": "*"},
    )
    assert not ev.evaluate("s3:GetObject").allowed
    # a wrongly-cased Effect is reported by the parser but read as meant
    assert ev.evaluate("ec2:DescribeVpcs").allowed


# -- properties -------------------------------------------------------------------------------

actions = st.sampled_from(["s3:GetObject", "s3:PutObject", "batch:SubmitJob", "iam:PassRole"])
action_patterns = st.sampled_from(
    ["*", "s3:*", "s3:Get*", "batch:SubmitJob", "iam:Pass?ole", "S3:PUTOBJECT"]
)
resource_patterns = st.sampled_from(
    ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", "arn:aws:batch:*:*:job-queue/T*", "arn:aws:*"]
)
resources = st.sampled_from(
    ["arn:aws:s3:::b/k", "arn:aws:s3:::c/k", "arn:aws:batch:r:1:job-queue/Tq", "*"]
)
statements = st.builds(
    lambda effect, acts, res, not_action: {
        "Effect": effect,
        ("NotAction" if not_action else "Action"): acts,
        "Resource": res,
    },
    st.sampled_from(["Allow", "Deny"]),
    st.lists(action_patterns, min_size=1, max_size=3),
    st.lists(resource_patterns, min_size=1, max_size=3),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(body=st.lists(statements, max_size=5), action=actions, resource=resources)
def test_deny_everything_always_wins(
    body: list[dict[str, Any]], action: str, resource: str
) -> None:
    ev = evaluator(*body, deny("*"))
    assert ev.evaluate(action, resource).decision is EXPLICIT


@settings(max_examples=150, deadline=None)
@given(body=st.lists(statements, max_size=5), action=actions, resource=resources)
def test_adding_a_deny_never_allows_more(
    body: list[dict[str, Any]], action: str, resource: str
) -> None:
    before = evaluator(*body).evaluate(action, resource)
    after = evaluator(*body, deny(action, resource)).evaluate(action, resource)
    assert after.decision is EXPLICIT
    if before.decision is EXPLICIT:
        assert after.decision is EXPLICIT


@settings(max_examples=150, deadline=None)
@given(
    body=st.lists(statements, max_size=5),
    action=actions,
    pattern=st.sampled_from(["arn:aws:s3:::b/*", "arn:aws:batch:*:*:job-queue/T*", "*"]),
    names=st.lists(st.text(alphabet="abT/*", max_size=5), min_size=1, max_size=4),
)
def test_pattern_decision_holds_for_every_concrete_resource(
    body: list[dict[str, Any]], action: str, pattern: str, names: list[str]
) -> None:
    """ALLOWED for a pattern means ALLOWED for each ARN it stands for; an explicit deny of one
    such ARN means the pattern is not allowed.  A pattern's wildcards stand for names without
    colons, and ``"*"`` alone for the resource of an action without resource types (issue
    #15; the exhaustive version is tests/iam/test_pattern_property.py)."""
    ev = evaluator(*body)
    on_pattern = ev.evaluate(action, pattern)
    for name in names:
        concrete = "*" if pattern == "*" else pattern.replace("*", name, 1).replace("*", "")
        point = ev.evaluate(action, concrete, resource_is_pattern=False)
        if on_pattern.allowed:
            assert point.allowed, (concrete, point.reason)
        if point.decision is EXPLICIT:
            assert on_pattern.decision is EXPLICIT
