"""Permissions beyond the seed's policy: optional extras, never required.

They make batchforge nicer (housekeeping, preflight checks that read the principal's own
policies, deleting objects in Data Explorer, a retention rule on the work directory) but the
product must work without them, since the seed's policy does not grant them: batchforge uses
them when granted, and an AccessDenied on one only loses what the need's ``why`` says.
``batchforge policy generate --extras`` adds them; the AccessDenied explainer names their
section.
"""

from __future__ import annotations

from batchforge.iam.catalog_model import Need, Section
from batchforge.iam.templates import BATCH, DATA_OBJECTS, JD, SECRET, WORK_BUCKET, needs

HEAD_JOB_DEFINITIONS = f"{BATCH}:job-definition/batchforge-nf-head-*"
"""The head job definitions batchforge registers: named ``batchforge-nf-head-<content hash>``
(:data:`batchforge.launch.jobdefs.NAME_PREFIX`), every revision."""
HEAD_JOB_DEFINITION_REVISIONS = f"{HEAD_JOB_DEFINITIONS}:*"
KMS_KEYS = "arn:aws:kms:{region}:{account}:key/*"

_IAM_READ_TOUCHES = (
    "arn:aws:iam::{account}:user/*",
    "arn:aws:iam::{account}:role/*",
    "arn:aws:iam::{account}:group/*",
    "arn:aws:iam::{account}:policy/*",
    "arn:aws:iam::aws:policy/*",
)

EXTRA_SECTIONS: tuple[Section, ...] = (
    Section(
        sid="OptionalExtraBatchHousekeeping",
        title="Batch housekeeping (not in the seed)",
        extra=True,
        optional=True,
        actions=("batch:ListJobs", "batch:DeregisterJobDefinition"),
        resources=(JD,),
        scoped_resources=(HEAD_JOB_DEFINITIONS,),
        touches=(HEAD_JOB_DEFINITION_REVISIONS,),
        needs=(
            Need(
                "batch:ListJobs",
                "launch",
                False,
                "a launch interrupted between SubmitJob and recording the job id (a crash, a "
                "lost answer) cannot be found by its job name on the head queue: the run is "
                "marked UNKNOWN instead (it is never submitted twice); and a cancelled or "
                "ended run's task jobs (tw-<runId>-*) cannot be found to be terminated: the "
                "run says so, its head job is terminated all the same",
                touches=("*",),
            ),
            Need(
                "batch:DeregisterJobDefinition",
                "launch",
                False,
                "head job definitions stay registered (ACTIVE; they cost nothing) after their "
                "compute environment is disposed, and a run's own definition after the run",
            ),
        ),
        scoping="ListJobs: account and region (it has no resource-level permissions). "
        "DeregisterJobDefinition: account, region and the batchforge-nf-head- name prefix of "
        "the head job definitions.",
    ),
    Section(
        sid="OptionalExtraPolicyReading",
        title="Read the principal's own policies for preflight checks (not in the seed)",
        extra=True,
        optional=True,
        actions=(
            "iam:SimulatePrincipalPolicy",
            "iam:GetUser",
            "iam:ListAttachedUserPolicies",
            "iam:ListUserPolicies",
            "iam:GetUserPolicy",
            "iam:ListGroupsForUser",
            "iam:ListAttachedGroupPolicies",
            "iam:ListGroupPolicies",
            "iam:GetGroupPolicy",
            "iam:GetRole",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:GetRolePolicy",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
        ),
        resources=_IAM_READ_TOUCHES,
        touches=_IAM_READ_TOUCHES,
        needs=needs(
            "preflight",
            False,
            ("iam:SimulatePrincipalPolicy", "the live check cannot ask IAM to simulate"),
            ("iam:GetUser", "the live check cannot identify the user"),
            ("iam:ListAttachedUserPolicies", "the user's managed policies cannot be read"),
            ("iam:ListUserPolicies", "the user's inline policies cannot be listed"),
            ("iam:GetUserPolicy", "the user's inline policies cannot be read"),
            ("iam:ListGroupsForUser", "policies from the user's groups cannot be read"),
            ("iam:ListAttachedGroupPolicies", "group managed policies cannot be read"),
            ("iam:ListGroupPolicies", "group inline policies cannot be listed"),
            ("iam:GetGroupPolicy", "group inline policies cannot be read"),
            ("iam:GetRole", "an assumed role's path cannot be found for the simulator"),
            ("iam:ListRolePolicies", "an assumed role's inline policies cannot be listed"),
            ("iam:ListAttachedRolePolicies", "an assumed role's managed policies cannot be read"),
            ("iam:GetRolePolicy", "an assumed role's inline policies cannot be read"),
            ("iam:GetPolicy", "managed policies cannot be read"),
            ("iam:GetPolicyVersion", "managed policy documents cannot be read"),
        ),
        scoping="Account; could be narrowed to the principal itself (user/${aws:username}).",
    ),
    Section(
        sid="OptionalExtraS3ObjectCleanup",
        title="Delete objects and abort uploads in Data Explorer buckets (not in the seed)",
        extra=True,
        optional=True,
        actions=("s3:DeleteObject", "s3:AbortMultipartUpload"),
        resources=(DATA_OBJECTS,),
        touches=(DATA_OBJECTS,),
        needs=needs(
            "data-explorer",
            False,
            ("s3:DeleteObject", "objects cannot be deleted from Data Explorer"),
            ("s3:AbortMultipartUpload", "failed uploads leave parts behind"),
        ),
        scoping="The Data Explorer buckets.",
    ),
    Section(
        sid="OptionalExtraS3WorkDirRetention",
        title="Set a retention rule on the work directory bucket (not in the seed)",
        extra=True,
        optional=True,
        actions=("s3:PutLifecycleConfiguration",),
        resources=(WORK_BUCKET,),
        touches=(WORK_BUCKET,),
        needs=needs(
            "work-dir",
            False,
            ("s3:PutLifecycleConfiguration", "intermediate files are never expired automatically"),
        ),
        scoping="The work directory bucket.",
    ),
    Section(
        sid="OptionalExtraSecretsTagging",
        title="Tag per-run pipeline secrets with their run (not in the seed)",
        extra=True,
        optional=True,
        actions=("secretsmanager:TagResource",),
        resources=(SECRET,),
        touches=(SECRET,),
        needs=needs(
            "secrets",
            False,
            (
                "secretsmanager:TagResource",
                "per-run secrets carry no batchforge:run-id tag (AWS requires this permission "
                "for tags on CreateSecret); their names still carry the run id, which is what "
                "cleanup uses. Set BATCHFORGE_TAG_SECRETS=true once it is granted",
            ),
        ),
        scoping="Account, region and the secrets prefix.",
    ),
    Section(
        sid="OptionalExtraCostEstimates",
        title="Price tasks with AWS prices for cost estimates (not in the seed)",
        extra=True,
        optional=True,
        actions=("pricing:GetProducts", "ec2:DescribeSpotPriceHistory"),
        resources=("*",),
        touches=("*",),
        needs=needs(
            "cost",
            False,
            (
                "pricing:GetProducts",
                "tasks on on-demand instances get no cost estimate (the AWS Price List gives "
                "the hourly price of their instance type): each says it could not be priced",
            ),
            (
                "ec2:DescribeSpotPriceHistory",
                "tasks on Spot instances get no cost estimate (the zone's current Spot price "
                "of their instance type): each says it could not be priced",
            ),
        ),
        scoping="Neither action has resource-level permissions: '*'. The Price List is "
        "public price data; DescribeSpotPriceHistory reads prices only.",
    ),
    Section(
        sid="OptionalExtraSecretsKmsKey",
        title="Encrypt per-run pipeline secrets with the environment's KMS key (not in the seed)",
        extra=True,
        optional=True,
        actions=("kms:GenerateDataKey", "kms:Decrypt"),
        resources=(KMS_KEYS,),
        touches=(KMS_KEYS,),
        needs=needs(
            "secrets",
            False,
            (
                "kms:GenerateDataKey",
                "with secretsKmsKeyId set on the environment, CreateSecret is refused (without "
                "it, Secrets Manager's own aws/secretsmanager key is used and needs nothing)",
            ),
            ("kms:Decrypt", "the same: Secrets Manager checks both for a customer key"),
        ),
        scoping="Narrow to the environment's key ARN (key/<id>).",
    ),
)
