"""Property: the pattern path (``policy check``, preflight) agrees with concrete evaluation.

For random policies built from the statement grammar -- Allow/Deny, Resource/NotResource,
ARNs with wildcards in any segment (the resource type included), short ARNs whose trailing
``*`` spans the remaining parts, conditions -- and a required resource *pattern*, the decision
on the pattern is compared with the decisions on every concrete ARN the pattern stands for,
up to a bound: each wildcard of the pattern filled with every colon-free name of at most two
characters over ``a b 1 /`` (``/`` appears in no policy name, so a name no entry covers is
always among them).  Agreement means:

* pattern allowed  <=> every sample allowed (IAM User Guide, "Policy evaluation logic": a
  request is allowed only when an Allow applies and no Deny does -- for each of the ARNs);
* pattern explicitly denied => some sample explicitly denied (a Deny reaches one of them);
* pattern implicitly denied => no sample explicitly denied, and some sample not allowed.

Seeded (``derandomize``) and bounded to a few hundred examples: a few seconds on a busy box.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from batchforge.iam.evaluator import Decision, PolicyEvaluator
from batchforge.iam.parse import parse_policy

ALLOWED, IMPLICIT, EXPLICIT = Decision.ALLOWED, Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY
FILLERS = ["".join(p) for n in range(3) for p in itertools.product("ab1/", repeat=n)]

_partition = st.sampled_from(["aws", "aws", "*", "a?s"])
_service = st.sampled_from(["batch", "batch", "batch", "ba*"])
_region = st.sampled_from(["a", "ab", "*", "a*", "?", "*b", ""])
_account = st.sampled_from(["1", "*", "1?", "", "1*"])
_type = st.sampled_from(["job-queue", "job-definition", "*", "job-*"])
_name = st.sampled_from(["*", "a*", "ab", "?b*", "*b", "a", "b?"])
_revision = st.sampled_from(["", "", ":*", ":1", ":?"])


@st.composite
def policy_arn(draw: st.DrawFn) -> str:
    """A Resource value: mostly six-part Batch ARNs, sometimes ``*`` or a short ARN."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(
            st.sampled_from(["*", "arn:aws:batch:*", "arn:aws:*", "arn:*", "arn:aws:ec2:*"])
        )
    head = f"arn:{draw(_partition)}:{draw(_service)}:{draw(_region)}:{draw(_account)}"
    if shape == 1:
        return f"{head}:*"
    return f"{head}:{draw(_type)}/{draw(_name)}{draw(_revision)}"


@st.composite
def statement(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.sampled_from(["batch:SubmitJob", "batch:*", "*", "ec2:*"])),
    }
    resources = draw(st.lists(policy_arn(), min_size=1, max_size=3))
    out["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = resources
    if draw(st.integers(0, 4)) == 0:
        op = draw(st.sampled_from(["StringEquals", "StringNotEquals", "StringLike"]))
        out["Condition"] = {op: {"aws:RequestedRegion": draw(st.sampled_from(["a", "a*"]))}}
    return out


@st.composite
def request_pattern(draw: st.DrawFn) -> str:
    """A required resource: a Batch ARN pattern with at most two wildcards, or ``*``."""
    if draw(st.integers(0, 7)) == 0:
        return "*"
    while True:
        region = draw(st.sampled_from(["a", "*"]))
        account = draw(st.sampled_from(["1", "*"]))
        kind = draw(st.sampled_from(["job-queue", "job-definition"]))
        name = draw(st.sampled_from(["a", "a*", "*", "*b", "ab"]))
        revision = draw(st.sampled_from(["", ":*", ":1"])) if kind == "job-definition" else ""
        text = f"arn:aws:batch:{region}:{account}:{kind}/{name}{revision}"
        if text.count("*") <= 2:
            return text


def samples(pattern: str) -> list[str]:
    """Every ARN of the pattern with its wildcards filled from :data:`FILLERS`."""
    if pattern == "*":
        return ["*"]
    pieces = pattern.split("*")
    out = []
    for fill in itertools.product(FILLERS, repeat=len(pieces) - 1):
        out.append(pieces[0] + "".join(f + p for f, p in zip(fill, pieces[1:], strict=True)))
    return out


@settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    statements=st.lists(statement(), min_size=1, max_size=4),
    pattern=request_pattern(),
    region=st.sampled_from(["a", "ab"]),
)
def test_pattern_path_agrees_with_concrete_samples(
    statements: list[dict[str, Any]], pattern: str, region: str
) -> None:
    parsed = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    assert parsed.policy is not None
    evaluator = PolicyEvaluator(parsed.policy.statements)
    ctx = {"aws:RequestedRegion": region}
    action = "batch:SubmitJob"
    on_pattern = evaluator.evaluate(action, pattern, ctx).decision
    concrete = {
        arn: evaluator.evaluate(action, arn, ctx, resource_is_pattern=False).decision
        for arn in samples(pattern)
    }
    event(f"pattern {on_pattern.value}")
    denied = sorted(a for a, d in concrete.items() if d is EXPLICIT)
    refused = sorted(a for a, d in concrete.items() if d is not ALLOWED)
    if on_pattern is ALLOWED:
        assert not refused, f"pattern allowed, but not {refused[:3]}"
    elif on_pattern is EXPLICIT:
        assert denied, "pattern explicitly denied, but no sample is"
    else:
        assert not denied, f"pattern implicitly denied, but {denied[:3]} explicitly"
        assert refused, "pattern implicitly denied, but every sample is allowed"
