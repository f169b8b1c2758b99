"""Policy generation: the seed reproduced, scoped policies that the seed's policy covers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batchforge.iam.actions import dataset
from batchforge.iam.catalog import dependent_permissions, required_permissions
from batchforge.iam.catalog_model import FEATURES, resolve_features
from batchforge.iam.evaluator import PolicyEvaluator
from batchforge.iam.generator import compact_size, generate_policy
from batchforge.iam.parse import MANAGED_POLICY_LIMIT, parse_policy
from batchforge.iam.scope import Scope
from tests.iam.seed import seed_full_policy_text

SCOPED = Scope(
    account="123456789012",
    region="eu-west-1",
    work_dir="s3://nf-work/runs/work",
    data_buckets=("data-a", "s3://data-b/"),
    tags=(("team", "genomics"),),
)
ALL = resolve_features(["all"])


def evaluator_for(document: dict[str, Any]) -> PolicyEvaluator:
    result = parse_policy(json.dumps(document))
    assert result.policy is not None, result.findings
    errors = [f for f in result.findings if f.severity == "ERROR"]
    assert not errors, errors
    return PolicyEvaluator(result.policy.statements)


@pytest.fixture(scope="module")
def seed_evaluator() -> PolicyEvaluator:
    policy = parse_policy(seed_full_policy_text()).policy
    assert policy is not None
    return PolicyEvaluator(policy.statements)


def test_all_features_unscoped_is_the_seed_policy(seed_full: dict[str, Any]) -> None:
    generated = generate_policy(ALL)
    assert generated.layout == "quick-start"
    assert not generated.split
    assert generated.document == seed_full
    for mine, theirs in zip(generated.document["Statement"], seed_full["Statement"], strict=True):
        assert list(mine) == list(theirs)  # same key order, as printed in the seed
    assert generated.sizes == [compact_size(seed_full)]


def test_quick_start_subset_keeps_seed_statements(seed_full: dict[str, Any]) -> None:
    generated = generate_policy(resolve_features(mode="manual"))
    seed = {s["Sid"]: s for s in seed_full["Statement"]}
    sids = [s["Sid"] for s in generated.document["Statement"]]
    assert sids == [
        "BatchEnvironmentListing",
        "BatchJobsManagementCanBeRestricted",
        "PassRolesToBatchCanBeRestricted",  # a launch's job definition carries roles
        "CloudWatchLogsAccessCanBeRestricted",
        "OptionalS3PlatformDataAccessCanBeRestricted",
    ]
    listing = generated.document["Statement"][0]
    assert listing["Action"] == [
        "batch:DescribeJobDefinitions",
        "batch:DescribeJobQueues",
        "batch:DescribeJobs",
    ]
    assert generated.document["Statement"][1] == seed["BatchJobsManagementCanBeRestricted"]
    assert generated.document["Statement"][2] == seed["PassRolesToBatchCanBeRestricted"]
    s3 = generated.document["Statement"][4]
    # a launch uploads its launch files (config, params, scripts) to the work directory
    assert s3["Action"] == ["s3:Get*", "s3:List*", "s3:PutObject"]


@pytest.mark.parametrize(
    "features",
    [ALL, resolve_features(mode="forge"), resolve_features(mode="manual"), ("launch", "efs")],
)
def test_scoped_policy_allows_everything_it_is_for(features: tuple[str, ...]) -> None:
    generated = generate_policy(features, SCOPED, extras=True)
    assert generated.layout == "least-privilege"
    ev = evaluator_for(generated.document)
    perms = required_permissions(features, SCOPED, include_extras=True)
    perms += dependent_permissions(features, SCOPED)
    denied = [
        p.triple for p in perms if not ev.evaluate(p.action, p.resource, p.context_dict).allowed
    ]
    assert denied == []


def test_the_seed_policy_allows_every_scoped_permission(seed_evaluator: PolicyEvaluator) -> None:
    """The product must work with exactly the seed's permissions."""
    for scope in (Scope(), SCOPED, Scope(queues=("MyJQ",), prefix="TowerForge-")):
        for perm in required_permissions(ALL, scope):
            if perm.sid == "BatchJobsManagementCanBeRestricted" and scope.queues:
                continue  # the seed grants only TowerForge-* queues: see the next test
            result = seed_evaluator.evaluate(perm.action, perm.resource, perm.context_dict)
            assert result.allowed, (perm.triple, result.reason)


def test_manual_queues_outside_the_prefix_are_not_in_the_seed(
    seed_evaluator: PolicyEvaluator,
) -> None:
    perms = required_permissions(["launch"], Scope(queues=("MyCustomJQ",)))
    denied = {
        p.action
        for p in perms
        if not seed_evaluator.evaluate(p.action, p.resource, p.context_dict).allowed
    }
    assert denied == {"batch:SubmitJob", "batch:TagResource"}


def test_scoped_policy_never_grants_more_than_the_seed(seed_evaluator: PolicyEvaluator) -> None:
    """Every (action, resource) of the least-privilege output is inside the seed's policy,
    except the dependent actions the seed lacks."""
    generated = generate_policy(ALL, SCOPED)
    data = dataset()
    context = {"iam:PassedToService": "batch.amazonaws.com"}
    for st in generated.document["Statement"]:
        if st["Sid"].startswith("DependentActionsNotInSeed"):
            continue
        actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        resources = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
        for action in (a for entry in actions for a in data.expand(entry)):
            for resource in resources:
                result = seed_evaluator.evaluate(action, resource, context)
                assert result.allowed, (st["Sid"], action, resource, result.reason)


def test_scoped_output_fills_every_placeholder() -> None:
    text = generate_policy(ALL, SCOPED, extras=True).to_json()
    doc = json.loads(text)
    flat = json.dumps(doc)
    for placeholder in ("{region}", "{account}", "{prefix}", "{bucket", "{queue}"):
        assert placeholder not in flat
    assert "arn:aws:s3:::nf-work/runs/work/*" in flat
    assert "arn:aws:batch:eu-west-1:123456789012:job-queue/TowerForge-*" in flat
    jobs = next(s for s in doc["Statement"] if s["Sid"] == "BatchJobsManagementCanBeRestricted")
    assert jobs["Condition"] == {"StringEqualsIfExists": {"aws:ResourceTag/team": "genomics"}}


def test_statements_with_specific_resources_only_hold_resource_level_actions() -> None:
    data = dataset()
    for features in (ALL, ("efs",), ("logs",)):
        for st in generate_policy(features, SCOPED, extras=True).document["Statement"]:
            if st["Resource"] == "*":
                continue
            actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
            for action in actions:
                info = data.action(action)
                if info is not None:
                    assert info.supports_resource_level, (st["Sid"], action)
    efs = generate_policy(("efs",), SCOPED).document["Statement"]
    anywhere = next(s for s in efs if s["Sid"] == "EFSManagementAnyResource")
    assert anywhere == {
        "Sid": "EFSManagementAnyResource",
        "Effect": "Allow",
        "Action": "elasticfilesystem:CreateFileSystem",
        "Resource": "*",
    }


def test_dependents_follow_the_layout_unless_asked() -> None:
    assert "DependentActionsNotInSeed" not in json.dumps(generate_policy(ALL).document)
    with_deps = generate_policy(ALL, dependents=True)
    assert "ec2:CreateTags" in json.dumps(with_deps.document)
    assert any("dependent" in n for n in with_deps.notes)
    scoped = generate_policy(("forge",), SCOPED).document
    assert "ec2:CreateTags" in json.dumps(scoped)
    assert "ec2:CreateTags" not in json.dumps(
        generate_policy(("forge",), SCOPED, dependents=False).document
    )


def test_unique_sids_and_valid_documents() -> None:
    for features in (ALL, tuple(FEATURES)):
        generated = generate_policy(features, SCOPED, extras=True)
        for doc in generated.documents:
            result = parse_policy(json.dumps(doc))
            assert result.policy is not None
            assert not [f for f in result.findings if f.severity == "ERROR"], result.findings


def test_large_policies_are_split_into_managed_policies() -> None:
    buckets = tuple(f"bucket-number-{i:04d}" for i in range(150))
    scope = Scope(account="123456789012", region="eu-west-1", data_buckets=buckets)
    generated = generate_policy(ALL, scope, extras=True)
    assert generated.split
    assert all(size <= MANAGED_POLICY_LIMIT for size in generated.sizes)
    assert any("split into" in note for note in generated.notes)
    granted = json.dumps(generated.documents)
    assert all(f"arn:aws:s3:::{b}/*" in granted for b in buckets)
    ev = PolicyEvaluator(
        [s for doc in generated.documents for s in parse_policy(json.dumps(doc)).policy.statements]
    )  # type: ignore[union-attr]
    perms = required_permissions(ALL, scope)
    assert all(ev.evaluate(p.action, p.resource, p.context_dict).allowed for p in perms)
    unsplit = generate_policy(ALL, scope, extras=True, split=False)
    assert len(unsplit.documents) == 1
    assert any("over the managed policy limit" in n for n in unsplit.notes)
