"""Condition operator parsing, and the speed of a whole check."""

from __future__ import annotations

import time

import pytest

from batchforge.iam.catalog import dependent_permissions, describe_catalog, required_permissions
from batchforge.iam.catalog_model import FEATURES
from batchforge.iam.conditions import closest_operator, split_operator
from batchforge.iam.evaluator import PolicyEvaluator
from batchforge.iam.parse import parse_policy
from tests.iam.seed import seed_full_policy_text


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("StringEquals", (None, "StringEquals", False)),
        ("StringEqualsIfExists", (None, "StringEquals", True)),
        ("ForAnyValue:StringLike", ("ForAnyValue", "StringLike", False)),
        ("ForAllValues:ArnLikeIfExists", ("ForAllValues", "ArnLike", True)),
        ("Null", (None, "Null", False)),
        ("NullIfExists", None),
        ("ForAnyValue:Null", None),
        ("ForSomeValues:StringLike", None),
        ("stringequals", None),
        ("IfExists", None),
    ],
)
def test_split_operator(raw: str, parts: tuple[str | None, str, bool] | None) -> None:
    assert split_operator(raw) == parts


def test_closest_operator_fixes_case() -> None:
    assert closest_operator("stringequalsifexists") == "StringEqualsIfExists"
    assert closest_operator("forallvalues:StringLIKE") == "ForAllValues:StringLike"
    assert closest_operator("Nope") is None
    assert closest_operator("nullifexists") is None


def test_whole_check_of_the_seed_is_fast() -> None:
    """Evaluating the seed's full policy against every feature's permissions, after start-up,
    stays well under 50 ms (measured: about 1 ms; the bound leaves room for slow CI)."""
    policy = parse_policy(seed_full_policy_text()).policy
    assert policy is not None
    features = [*FEATURES]
    perms = required_permissions(features, include_extras=True) + dependent_permissions(features)
    PolicyEvaluator(policy.statements).evaluate("s3:GetObject")  # warm the glob caches
    for p in perms:
        PolicyEvaluator(policy.statements).evaluate(p.action, p.resource, p.context_dict)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        evaluator = PolicyEvaluator(policy.statements)
        for p in perms:
            evaluator.evaluate(p.action, p.resource, p.context_dict)
        best = min(best, time.perf_counter() - start)
    assert best < 0.05


def test_describe_catalog_is_json_data() -> None:
    data = describe_catalog()
    assert [f["name"] for f in data["features"]] == list(FEATURES)
    assert data["modes"]["forge"][0] == "launch"
    sids = [s["sid"] for s in data["sections"]]
    assert sids[0] == "BatchEnvironmentManagementCanBeRestricted"
    assert all(s["extra"] for s in data["sections"][14:])
