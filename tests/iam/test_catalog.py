"""The permission catalog against the seed and the IAM dataset."""

from __future__ import annotations

from typing import Any

import pytest

from batchforge.errors import InvalidInput
from batchforge.iam.actions import dataset
from batchforge.iam.catalog import (
    ALL_SECTIONS,
    catalog_actions,
    dependent_permissions,
    lookup_action,
    required_permissions,
    resources_for,
    section_for_action,
)
from batchforge.iam.catalog_model import FEATURES, MODES, resolve_features
from batchforge.iam.glob import Glob
from batchforge.iam.scope import Scope
from batchforge.iam.sections import SEED_SECTIONS

SEED_SIDS = [
    "BatchEnvironmentManagementCanBeRestricted",
    "BatchEnvironmentListing",
    "BatchJobsManagementCanBeRestricted",
    "LaunchTemplateManagement",
    "PassRolesToBatchCanBeRestricted",
    "CloudWatchLogsAccessCanBeRestricted",
    "OptionalS3PlatformDataAccessCanBeRestricted",
    "OptionalIAMManagementCanBeRestricted",
    "OptionalFetchOptimizedAMIMetadata",
    "OptionalEC2MetadataDescribe",
    "OptionalFSXManagementCanBeRestricted",
    "OptionalEFSManagementCanBeRestricted",
    "OptionalPipelineSecretsListing",
    "OptionalPipelineSecretsManagementCanBeRestricted",
]


def test_sections_are_the_seed_statements_in_order(seed_full: dict[str, Any]) -> None:
    assert [s.sid for s in SEED_SECTIONS] == SEED_SIDS
    for section, statement in zip(SEED_SECTIONS, seed_full["Statement"], strict=True):
        actions = statement["Action"]
        assert list(section.actions) == ([actions] if isinstance(actions, str) else actions)
        assert section.optional == section.sid.startswith("Optional")


def test_every_catalog_action_exists_in_the_dataset() -> None:
    data = dataset()
    for action in catalog_actions():
        info = data.action(action)
        assert info is not None, action
        assert info.name == action, f"spelling differs from the dataset: {info.name}"
    for section in ALL_SECTIONS:
        for entry in section.actions:
            assert data.expand(entry), f"{section.sid}: {entry} matches no action"


def test_every_need_is_listed_in_its_section() -> None:
    for section in ALL_SECTIONS:
        for need in section.needs:
            assert any(
                Glob.parse(e, ignore_case=True).matches(need.action) for e in section.actions
            ), (section.sid, need.action)
            assert need.feature in FEATURES


def test_every_need_yields_resources_that_fit_the_dataset() -> None:
    perms = required_permissions([*FEATURES], include_extras=True)
    covered = {(p.sid, p.action, p.feature) for p in perms}
    for section in ALL_SECTIONS:
        for need in section.needs:
            assert (section.sid, need.action, need.feature) in covered, need


def test_resources_follow_the_dataset_resource_types() -> None:
    touches = [
        "arn:aws:batch:*:*:job-definition/*",
        "arn:aws:batch:*:*:job-queue/T-*",
        "arn:aws:batch:*:*:job/*",
    ]
    assert resources_for("batch:SubmitJob", touches) == touches
    assert resources_for("batch:CancelJob", touches) == ["arn:aws:batch:*:*:job/*"]
    assert resources_for("batch:DescribeJobs", touches) == ["*"]
    logs = [
        "arn:aws:logs:*:*:log-group:/aws/batch/job:*",
        "arn:aws:logs:*:*:log-group:/aws/batch/job:log-stream:*",
    ]
    assert resources_for("logs:GetLogEvents", logs) == [logs[1]]
    assert resources_for("logs:DescribeLogStreams", logs) == [logs[0]]
    s3 = ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
    assert resources_for("s3:ListBucket", s3) == ["arn:aws:s3:::b"]
    assert resources_for("s3:GetObject", s3) == ["arn:aws:s3:::b/*"]


def test_required_permissions_are_triples_filled_from_the_scope() -> None:
    scope = Scope(account="123456789012", region="eu-west-1", tags=(("team", "gen"),))
    perms = required_permissions(["launch", "forge"], scope)
    submit = {p.resource for p in perms if p.action == "batch:SubmitJob"}
    assert submit == {
        "arn:aws:batch:eu-west-1:123456789012:job-definition/*",
        "arn:aws:batch:eu-west-1:123456789012:job-queue/TowerForge-*",
        "arn:aws:batch:eu-west-1:123456789012:job/*",
    }
    submit_ctx = {p.context for p in perms if p.action == "batch:SubmitJob"}
    assert submit_ctx == {(("aws:ResourceTag/team", "gen"),)}
    passrole = [p for p in perms if p.action == "iam:PassRole"]
    assert {p.context_dict["iam:PassedToService"] for p in passrole} == {
        "batch.amazonaws.com",
        "ec2.amazonaws.com",
    }
    assert all(p.resource == "arn:aws:iam::123456789012:role/TowerForge-*" for p in passrole)
    optional = [p for p in perms if p.feature in ("launch", "forge") and not p.required]
    # a launch passes roles to its job definition only when the environment names them
    assert [(p.action, p.feature, p.context_dict) for p in optional] == [
        ("iam:PassRole", "launch", {"iam:PassedToService": "batch.amazonaws.com"})
    ]


def test_optional_and_extras_are_never_required() -> None:
    perms = required_permissions([*FEATURES], include_extras=True)
    extras = [p for p in perms if p.kind == "extra"]
    assert {p.action for p in extras} >= {
        "batch:ListJobs",
        "batch:DeregisterJobDefinition",
        "iam:SimulatePrincipalPolicy",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:PutLifecycleConfiguration",
    }
    assert not any(p.required for p in extras)
    only_required = required_permissions(["manual"], include_optional=False)
    assert only_required == []


def test_dependent_actions_come_from_the_dataset() -> None:
    deps = dependent_permissions([*FEATURES])
    parents = {p.action: p.dependent_of for p in deps}
    assert parents["ec2:GetSecurityGroupsForVpc"] == "fsx:CreateFileSystem"
    assert parents["ec2:CreateTags"] == "ec2:CreateLaunchTemplate"
    assert parents["fsx:CreateBackup"] == "fsx:DeleteFileSystem"
    assert all(not p.required and p.kind == "dependent" for p in deps)
    # granted by another chosen section: not a gap
    assert "ssm:GetParameters" not in parents
    assert "ssm:GetParameters" in {p.action for p in dependent_permissions(["forge"])}
    # the dataset lists none for EFS mount targets
    assert dataset().action("elasticfilesystem:CreateMountTarget").dependent_actions == ()


@pytest.mark.parametrize(
    ("action", "resource", "sid"),
    [
        ("batch:SubmitJob", None, "BatchJobsManagementCanBeRestricted"),
        ("BATCH:submitjob", None, "BatchJobsManagementCanBeRestricted"),
        ("logs:GetLogEvents", None, "CloudWatchLogsAccessCanBeRestricted"),
        ("s3:GetObject", "arn:aws:s3:::b/k", "OptionalS3PlatformDataAccessCanBeRestricted"),
        (
            "iam:ListRolePolicies",
            "arn:aws:iam::1:role/TowerForge-x",
            "OptionalIAMManagementCanBeRestricted",
        ),
        ("batch:ListJobs", None, "OptionalExtraBatchHousekeeping"),
        ("ec2:CreateTags", None, "LaunchTemplateManagement"),
    ],
)
def test_section_for_action(action: str, resource: str | None, sid: str) -> None:
    section = section_for_action(action, resource)
    assert section is not None
    assert section.sid == sid


def test_lookup_action_explains_kind() -> None:
    entry = lookup_action("ec2:CreateTags")
    assert entry is not None and entry.kind == "dependent"
    assert entry.dependent_of == "ec2:CreateLaunchTemplate"
    submit = lookup_action("batch:SubmitJob")
    assert submit is not None and submit.required and submit.features == ("launch",)
    assert lookup_action("batch:ListJobs").kind == "extra"  # type: ignore[union-attr]
    assert lookup_action("sqs:SendMessage") is None


def test_features_modes_and_aliases() -> None:
    assert resolve_features(mode="manual") == MODES["manual"]
    assert resolve_features(["s3"]) == ("work-dir", "data-explorer")
    assert resolve_features(["efs,fsx", "secrets"]) == ("fsx", "efs", "secrets")
    assert "preflight" not in resolve_features()
    assert resolve_features(mode="forge", exclude=["iam-roles"]).count("iam-roles") == 0
    with pytest.raises(InvalidInput) as err:
        resolve_features(["fgore"])
    assert err.value.field == "features"
    assert "forge" in (err.value.hint or "")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"account": "1234"}, "account"),
        ({"region": "mars-1"}, "region"),
        ({"work_dir": "bucket/path"}, "work_dir"),
        ({"work_dir": "s3://b/*"}, "work_dir"),
        ({"data_buckets": ("Not_A_Bucket",)}, "data_buckets"),
        ({"prefix": "has space"}, "prefix"),
        ({"tags": (("k*", "v"),)}, "tags"),
    ],
)
def test_scope_validation_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Scope(**kwargs)
    assert err.value.field == field
