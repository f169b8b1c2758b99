"""Offline policy check: reports on the seed's policies and on broken or risky ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batchforge.iam.checker import check_policies, check_policy
from batchforge.iam.evaluator import Decision
from batchforge.iam.generator import generate_policy
from batchforge.iam.model import Severity
from batchforge.iam.scope import Scope
from tests.iam.seed import seed_block_with, seed_full_policy_text


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=1)


def codes(report: Any, severity: Severity | None = None) -> list[str]:
    return [f.code for f in report.findings if severity is None or f.severity is severity]


def without(policy: dict[str, Any], sid: str) -> str:
    return json.dumps({**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != sid]})


def test_seed_full_policy_passes_for_every_feature() -> None:
    report = check_policy(seed_full_policy_text())
    assert report.ok and report.valid and report.exit_code == 0
    assert report.missing(required=True) == []
    assert codes(report, Severity.ERROR) == []
    assert codes(report, Severity.SECURITY_WARNING) == []
    assert "dependent-action-missing" in codes(report, Severity.WARNING)
    assert "extra-permission-available" in codes(report, Severity.SUGGESTION)
    assert len(report.results) >= 80


def test_missing_section_fails_and_names_it(seed_full: dict[str, Any]) -> None:
    report = check_policy(without(seed_full, "BatchJobsManagementCanBeRestricted"), mode="manual")
    assert not report.ok and report.exit_code == 1
    missing = {r.permission.action for r in report.missing(required=True)}
    assert missing == {
        "batch:CancelJob",
        "batch:RegisterJobDefinition",
        "batch:SubmitJob",
        "batch:TagResource",
        "batch:TerminateJob",
    }
    finding = next(f for f in report.findings if f.code == "required-permission-missing")
    assert "BatchJobsManagementCanBeRestricted" in (finding.hint or "")
    assert "pipelines cannot be launched" in finding.message


def test_missing_optional_section_only_warns(seed_full: dict[str, Any]) -> None:
    report = check_policy(without(seed_full, "OptionalPipelineSecretsListing"), ["secrets"])
    assert report.ok
    finding = next(f for f in report.findings if f.code == "optional-permission-missing")
    assert finding.severity is Severity.WARNING
    assert "leftover pipeline secrets" in finding.message


def test_explicit_deny_names_the_deciding_statement(seed_full: dict[str, Any]) -> None:
    deny = {
        "Sid": "NoSubmit",
        "Effect": "Deny",
        "Action": "batch:Submit*",
        "Resource": "arn:aws:batch:*:*:job-queue/*",
    }
    policy = {**seed_full, "Statement": [*seed_full["Statement"], deny]}
    report = check_policy(json.dumps(policy), ["launch"])
    assert not report.ok
    denied = [r for r in report.results if r.evaluation.decision is Decision.EXPLICIT_DENY]
    assert {r.permission.action for r in denied} == {"batch:SubmitJob"}
    assert all(r.evaluation.sid == "NoSubmit" for r in denied)
    finding = next(f for f in report.findings if f.code == "explicit-deny")
    assert finding.sid == "NoSubmit"


def test_unreadable_input_exits_2_with_location() -> None:
    report = check_policy(seed_block_with("IAMRoleAndProfileManagement"), ["iam-roles"])
    assert not report.usable and report.exit_code == 2
    assert report.results == []
    finding = report.findings[0]
    assert (finding.code, finding.line, finding.column) == ("json-syntax", 23, 1)
    assert "line 23, column 1" in report.render_text()


def test_seed_least_privilege_examples_are_evaluated_as_pasted() -> None:
    """The seed's scoped logs example names log-group:/aws/batch/job/*, which misses the
    log group /aws/batch/job: the check must say so."""
    text = seed_block_with("CloudWatchLogsAccess").replace("<REGION>", "eu-west-1")
    text = text.replace("<ACCOUNT_ID>", "123456789012")
    report = check_policy(text, ["logs"], Scope(account="123456789012", region="eu-west-1"))
    assert "bare-statement" in codes(report, Severity.ERROR)
    assert not report.ok
    assert {r.permission.action for r in report.missing(required=True)} == {"logs:GetLogEvents"}
    fixed = generate_policy(["logs"], Scope(account="123456789012", region="eu-west-1"))
    assert check_policy(
        json.dumps(fixed.document), ["logs"], Scope(account="123456789012", region="eu-west-1")
    ).ok


def test_seed_efs_example_warns_about_create_file_system() -> None:
    text = seed_block_with("EFSDescribe")
    report = check_policy(text, ["efs"])
    warnings = [f for f in report.findings if f.code == "no-resource-level-support"]
    assert [w.sid for w in warnings] == ["EFSManagement"]
    assert "elasticfilesystem:CreateFileSystem" in warnings[0].message
    assert "invalid-arn" in codes(report)  # <REGION> placeholders left in


@pytest.mark.parametrize(
    ("statement", "code", "severity"),
    [
        (
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
            "passrole-unrestricted",
            Severity.SECURITY_WARNING,
        ),
        (
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            "allow-with-notaction",
            Severity.SECURITY_WARNING,
        ),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"},
            "allow-with-notresource",
            Severity.SECURITY_WARNING,
        ),
        (
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            "allow-all-actions",
            Severity.SECURITY_WARNING,
        ),
        (
            {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy"], "Resource": "*"},
            "iam-write-any-role",
            Severity.SECURITY_WARNING,
        ),
        (
            {
                "Effect": "Allow",
                "Action": "batch:DescribeJobs",
                "Resource": "arn:aws:batch:*:*:job/*",
            },
            "no-resource-level-support",
            Severity.WARNING,
        ),
        (
            {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "arn:aws:s3:::bucket"},
            "resource-mismatch",
            Severity.WARNING,
        ),
        (
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
            "unused-actions",
            Severity.SUGGESTION,
        ),
    ],
)
def test_lint_findings(statement: dict[str, Any], code: str, severity: Severity) -> None:
    report = check_policy(doc(statement), ["launch"])
    found = [f for f in report.findings if f.code == code]
    assert found, report.findings
    assert found[0].severity is severity


def test_passrole_with_service_condition_is_not_a_security_warning() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": "*",
        "Condition": {"StringEquals": {"iam:PassedToService": "batch.amazonaws.com"}},
    }
    assert "passrole-unrestricted" not in codes(check_policy(doc(statement), ["forge"]))


def test_condition_not_met_explains_near_miss() -> None:
    statement = {
        "Sid": "Pass",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": "*",
        "Condition": {"StringEquals": {"iam:PassedToService": "batch.amazonaws.com"}},
    }
    report = check_policy(doc(statement), ["forge"])
    ec2 = next(
        r
        for r in report.results
        if r.permission.action == "iam:PassRole"
        and r.permission.context_dict["iam:PassedToService"] == "ec2.amazonaws.com"
    )
    assert ec2.evaluation.decision is Decision.IMPLICIT_DENY
    assert ec2.evaluation.near_miss is not None and ec2.evaluation.near_miss.sid == "Pass"
    assert "iam:PassedToService is not met" in ec2.evaluation.reason


def test_scope_narrower_than_needed_is_reported(seed_full: dict[str, Any]) -> None:
    scoped = generate_policy(["launch"], Scope(account="123456789012", region="eu-west-1"))
    other_region = Scope(account="123456789012", region="us-east-1")
    report = check_policy(json.dumps(scoped.document), ["launch"], other_region)
    assert not report.ok
    assert any(
        "only for some" in r.evaluation.reason or "no statement" in r.evaluation.reason
        for r in report.missing(required=True)
    )


def test_several_policies_are_checked_together(seed_full: dict[str, Any]) -> None:
    first = {**seed_full, "Statement": seed_full["Statement"][:7]}
    second = {**seed_full, "Statement": seed_full["Statement"][7:]}
    report = check_policies([json.dumps(first), json.dumps(second)])
    assert report.ok
    alone = check_policy(json.dumps(first))
    assert not alone.ok


def test_report_renders_as_text_and_json() -> None:
    report = check_policy(seed_full_policy_text(), ["launch", "forge"])
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True
    assert data["features"] == ["launch", "forge"]
    assert data["summary"]["requiredMissing"] == 0
    submit = [p for p in data["permissions"] if p["action"] == "batch:SubmitJob"]
    assert {p["statement"]["sid"] for p in submit} == {"BatchJobsManagementCanBeRestricted"}
    text = report.render_text(verbose=True)
    assert text.startswith("Policy check PASSED")
    assert "ALLOWED" in text and "batch:SubmitJob" in text
