"""Batch housekeeping extras (not in the seed): batch:ListJobs reconciles an interrupted launch
by job name; batch:DeregisterJobDefinition retires head job definitions.  Generated only when
asked, scoped to the head definitions, explained when denied, never required."""

from __future__ import annotations

from batchforge.iam.catalog import lookup_action, required_permissions
from batchforge.iam.evaluator import PolicyEvaluator
from batchforge.iam.explain import access_denied_hint
from batchforge.iam.extras import HEAD_JOB_DEFINITIONS
from batchforge.iam.generator import generate_policy
from batchforge.iam.glob import Glob
from batchforge.iam.scope import Scope
from batchforge.launch.jobdefs import NAME_PREFIX, HeadJobDefinition
from tests.iam.test_generator import evaluator_for

EXTRAS = {"batch:ListJobs", "batch:DeregisterJobDefinition"}
SCOPE = Scope(account="123456789012", region="eu-west-1")
HEAD_DEFINITION = (
    "arn:aws:batch:eu-west-1:123456789012:job-definition/"
    f"{HeadJobDefinition('nextflow/nextflow:24.10.5').name}:3"
)


def _actions(document: dict) -> set[str]:
    out: set[str] = set()
    for statement in document["Statement"]:
        actions = statement["Action"]
        out.update([actions] if isinstance(actions, str) else actions)
    return out


def test_extras_are_generated_only_when_asked() -> None:
    assert not EXTRAS & _actions(generate_policy(["launch"]).document)
    assert not EXTRAS & _actions(generate_policy(["launch"], SCOPE).document)
    assert _actions(generate_policy(["launch"], extras=True).document) >= EXTRAS
    assert all(
        p.kind == "extra" and not p.required
        for p in required_permissions(["launch"], SCOPE, include_extras=True)
        if p.action in EXTRAS
    )


def test_least_privilege_scopes_deregistration_to_the_head_definitions() -> None:
    policy: PolicyEvaluator = evaluator_for(
        generate_policy(["launch"], SCOPE, extras=True).document
    )
    assert policy.evaluate(
        "batch:DeregisterJobDefinition", HEAD_DEFINITION, resource_is_pattern=False
    ).allowed
    someone_elses = "arn:aws:batch:eu-west-1:123456789012:job-definition/their-pipeline:1"
    assert not policy.evaluate(
        "batch:DeregisterJobDefinition", someone_elses, resource_is_pattern=False
    ).allowed
    other_region = HEAD_DEFINITION.replace("eu-west-1", "us-east-1")
    assert not policy.evaluate(
        "batch:DeregisterJobDefinition", other_region, resource_is_pattern=False
    ).allowed
    # ListJobs has no resource-level permissions: granted on "*", not lost in a scoped statement
    assert policy.evaluate("batch:ListJobs", "*").allowed


def test_the_catalog_pattern_names_the_definitions_batchforge_registers() -> None:
    assert HEAD_JOB_DEFINITIONS.endswith(f"job-definition/{NAME_PREFIX}*")
    filled = HEAD_JOB_DEFINITIONS.format(region="eu-west-1", account="123456789012")
    assert Glob.parse(filled).matches(HEAD_DEFINITION)


def test_a_denied_extra_is_explained_as_optional_and_beyond_the_seed() -> None:
    entry = lookup_action("batch:DeregisterJobDefinition", HEAD_DEFINITION)
    assert entry is not None and entry.kind == "extra" and not entry.required
    assert entry.section.sid == "OptionalExtraBatchHousekeeping"
    assert "after their compute environment is disposed" in entry.needs[0].why
    message = (
        "User: arn:aws:iam::123456789012:user/bf is not authorized to perform: "
        f"batch:DeregisterJobDefinition on resource: {HEAD_DEFINITION}"
    )
    hint = access_denied_hint("batch", "DeregisterJobDefinition", message) or ""
    assert "OptionalExtraBatchHousekeeping" in hint and "beyond the seed" in hint
    listing = lookup_action("batch:ListJobs")
    assert listing is not None and "never submitted twice" in listing.needs[0].why


def test_secrets_extras_are_optional_and_scoped_to_the_secrets_prefix() -> None:
    secrets_extras = {"secretsmanager:TagResource", "kms:GenerateDataKey", "kms:Decrypt"}
    assert not secrets_extras & _actions(generate_policy(["secrets"]).document)
    generated = generate_policy(["secrets"], SCOPE, least_privilege=True, extras=True)
    assert _actions(generated.document) >= secrets_extras
    evaluator = evaluator_for(generated.document)
    mine = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tower-batchforge-R1-X-AbCdEf"
    other = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-db-AbCdEf"
    assert evaluator.evaluate("secretsmanager:TagResource", mine).allowed
    assert not evaluator.evaluate("secretsmanager:TagResource", other).allowed
    assert all(
        not p.required
        for p in required_permissions(["secrets"], SCOPE, include_extras=True)
        if p.action in secrets_extras
    )
