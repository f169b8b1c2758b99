"""The pure part of the live check: principals, sample ARNs, simulator batches and reports."""

from __future__ import annotations

import pytest

from batchforge.iam.catalog import required_permissions
from batchforge.iam.catalog_model import resolve_features
from batchforge.iam.glob import Glob
from batchforge.iam.live import (
    SAMPLE_NAME,
    Check,
    PreflightReport,
    SimBatch,
    Verdict,
    parse_principal,
    read_simulation,
    sample_arn,
    samples_for,
    simulation_batches,
)
from batchforge.iam.scope import Scope

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("arn", "kind", "name", "iam_arn"),
    [
        (
            f"arn:aws:iam::{ACCOUNT}:user/alice",
            "user",
            "alice",
            f"arn:aws:iam::{ACCOUNT}:user/alice",
        ),
        (
            f"arn:aws:iam::{ACCOUNT}:user/teams/genomics/bob",
            "user",
            "bob",
            f"arn:aws:iam::{ACCOUNT}:user/teams/genomics/bob",
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/Batchforge/session-1",
            "role",
            "Batchforge",
            f"arn:aws:iam::{ACCOUNT}:role/Batchforge",
        ),
        (f"arn:aws:iam::{ACCOUNT}:root", "root", None, f"arn:aws:iam::{ACCOUNT}:root"),
        (f"arn:aws:sts::{ACCOUNT}:federated-user/carol", "federated", "carol", None),
        ("not-an-arn", "unknown", None, None),
    ],
)
def test_principal_from_caller_arn(
    arn: str, kind: str, name: str | None, iam_arn: str | None
) -> None:
    principal = parse_principal(arn)
    assert (principal.kind, principal.name, principal.iam_arn) == (kind, name, iam_arn)


def test_assumed_role_path_is_unknown_until_found() -> None:
    principal = parse_principal(f"arn:aws:sts::{ACCOUNT}:assumed-role/Batchforge/s")
    assert principal.path is None and principal.to_dict()["pathKnown"] is False
    assert principal.session == "s"
    found = principal.with_path("/service/")
    assert found.iam_arn == f"arn:aws:iam::{ACCOUNT}:role/service/Batchforge"


@pytest.mark.parametrize(
    ("pattern", "sample"),
    [
        ("*", "*"),
        (
            "arn:aws:batch:*:*:compute-environment/TowerForge-*",
            f"arn:aws:batch:eu-west-1:{ACCOUNT}:compute-environment/TowerForge-{SAMPLE_NAME}",
        ),
        ("arn:aws:s3:::*", f"arn:aws:s3:::{SAMPLE_NAME}"),
        ("arn:aws:s3:::nf-work/run/*", f"arn:aws:s3:::nf-work/run/{SAMPLE_NAME}"),
        (
            f"arn:aws:iam::{ACCOUNT}:role/TowerForge-*",
            f"arn:aws:iam::{ACCOUNT}:role/TowerForge-{SAMPLE_NAME}",
        ),
        (
            "arn:aws:logs:eu-west-1:*:log-group:/aws/batch/job:log-stream:*",
            f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/batch/job:log-stream:{SAMPLE_NAME}",
        ),
    ],
)
def test_sample_arn_fills_account_region_and_names(pattern: str, sample: str) -> None:
    assert sample_arn(pattern, account=ACCOUNT, region="eu-west-1") == sample


def test_every_sample_is_covered_by_its_pattern() -> None:
    scope = Scope(account=ACCOUNT, region="eu-west-1", work_dir="s3://nf-work/run")
    perms = required_permissions(resolve_features(), scope)
    for pattern, sample in samples_for(perms, account=ACCOUNT, region="eu-west-1").items():
        assert "*" not in sample or sample == "*", sample
        assert Glob.parse(pattern).matches(sample), (pattern, sample)


def test_simulation_batches_group_by_context_and_resource_level() -> None:
    perms = required_permissions(["forge"], Scope(account=ACCOUNT, region="eu-west-1"))
    samples = samples_for(perms, account=ACCOUNT, region="eu-west-1")
    batches = simulation_batches(perms, samples)
    contexts = sorted({b.context for b in batches})
    assert contexts == [
        (),
        (("iam:PassedToService", "batch.amazonaws.com"),),
        (("iam:PassedToService", "ec2.amazonaws.com"),),
    ]
    star = [b for b in batches if b.resources == ("*",)]
    assert star and all(a.startswith(("batch:Describe", "ec2:")) for b in star for a in b.actions)
    covered = {(a.lower(), r, b.context) for b in batches for a in b.actions for r in b.resources}
    assert all((p.action.lower(), samples[p.resource], p.context) in covered for p in perms)
    assert len(batches) <= 5


def test_simulation_batches_are_chunked() -> None:
    buckets = tuple(f"data-{n}" for n in range(30))
    perms = required_permissions(resolve_features(), Scope(account=ACCOUNT, data_buckets=buckets))
    samples = samples_for(perms, account=ACCOUNT, region="us-east-1")
    batches = simulation_batches(perms, samples)
    assert all(len(b.actions) * len(b.resources) <= 1000 for b in batches)
    assert sum(len(b.resources) for b in batches if b.context == ()) > 20  # it did chunk


def test_read_simulation_reads_pairs_and_specific_results() -> None:
    batch = SimBatch(("iam:PassRole",), ("arn:r1", "arn:r2"), (("iam:PassedToService", "x"),))
    results = [
        {"EvalActionName": "iam:PassRole", "EvalResourceName": "arn:r1", "EvalDecision": "allowed"},
        {
            "EvalActionName": "iam:PassRole",
            "EvalResourceName": "*",
            "EvalDecision": "implicitDeny",
            "ResourceSpecificResults": [
                {"EvalResourceName": "arn:r2", "EvalResourceDecision": "explicitDeny"}
            ],
            "OrganizationsDecisionDetail": {"AllowedByOrganizations": False},
        },
    ]
    read = read_simulation(batch, results)
    assert read[("iam:passrole", "arn:r1", batch.context)][0] == "allowed"
    assert read[("iam:passrole", "arn:r2", batch.context)][0] == "explicitDeny"
    assert "service control policy" in read[("iam:passrole", "*", batch.context)][1]


def _report(*verdicts: tuple[str, Verdict]) -> PreflightReport:
    perms = {p.action: p for p in required_permissions(["forge", "logs"], Scope())}
    principal = parse_principal(f"arn:aws:iam::{ACCOUNT}:user/alice")
    report = PreflightReport(principal, ("forge", "logs"), Scope(), "eu-west-1")
    report.checks = [Check(perms[a], "x", v, "policies", "because") for a, v in verdicts]
    return report


def test_report_blocks_on_required_and_warns_on_optional() -> None:
    report = _report(
        ("batch:CreateJobQueue", Verdict.DENIED),
        ("logs:FilterLogEvents", Verdict.DENIED),
        ("logs:GetLogEvents", Verdict.ALLOWED),
    )
    assert not report.ok and report.complete
    (blocking,) = report.blocking
    assert "Feature 'forge' needs batch:CreateJobQueue" in blocking
    assert "section BatchEnvironmentManagementCanBeRestricted" in blocking
    (warning,) = report.warnings
    assert warning.startswith("Feature 'logs' is limited without logs:FilterLogEvents")
    assert report.headline().startswith("FAILED: 1 required permission missing")
    data = report.to_dict()
    assert data["summary"] == {
        "checked": 3,
        "allowed": 1,
        "requiredMissing": 1,
        "optionalMissing": 1,
        "unknown": 0,
    }
    assert data["permissions"][0]["section"] == "BatchEnvironmentManagementCanBeRestricted"


def test_unknown_permissions_do_not_block_but_leave_the_report_incomplete() -> None:
    report = _report(
        ("batch:CreateJobQueue", Verdict.UNKNOWN), ("logs:GetLogEvents", Verdict.ALLOWED)
    )
    assert report.ok and not report.complete
    assert report.headline().startswith("INCOMPLETE")
    assert "1 permission(s) could not be checked (1 required)" in report.warnings[0]
    text = report.render_text(verbose=True)
    assert "unknown  forge" in text and "Principal: arn:aws:iam::123456789012:user/alice" in text
