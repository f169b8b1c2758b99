"""Which IAM actions authorise an AWS API call.

boto3 names services and operations its own way (``efs``/``CreateFileSystem``); IAM names
actions by service *prefix* (``elasticfilesystem:CreateFileSystem``).  Most operations are
authorised as the action of the same name; the exceptions that batchforge meets are listed in
:data:`OPERATION_ACTIONS` (mostly S3, whose API and IAM vocabularies differ).

Used by the AccessDenied explainer (:mod:`.explain`) and by the permission contract test.
"""

from __future__ import annotations

from batchforge.iam.actions import dataset

SERVICE_PREFIXES: dict[str, str] = {
    "efs": "elasticfilesystem",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "stepfunctions": "states",
    "cloudwatch": "cloudwatch",
    "logs": "logs",
    "secretsmanager": "secretsmanager",
    "sso-admin": "sso",
    "resourcegroupstaggingapi": "tag",
    "ecr-public": "ecr-public",
}
"""boto3 service name -> IAM service prefix, where they differ (or look like they might)."""

OPERATION_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPartCopy"): ("s3:PutObject", "s3:GetObject"),
    ("s3", "CopyObject"): ("s3:PutObject", "s3:GetObject"),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    ("s3", "ListMultipartUploads"): ("s3:ListBucketMultipartUploads",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "GetObjectTagging"): ("s3:GetObjectTagging",),
}
"""Operations authorised as actions of another name (IAM Service Authorization Reference)."""

NO_PERMISSION_NEEDED: frozenset[str] = frozenset({"sts:GetCallerIdentity"})
"""Calls AWS answers whatever the caller's policies say (an explicit Deny cannot block them)."""


def iam_prefix(service: str) -> str:
    """The IAM service prefix of a boto3 service name (``efs`` -> ``elasticfilesystem``)."""
    return SERVICE_PREFIXES.get(service, service)


def canonical_action(name: str) -> str | None:
    """``batch:createjobqueue`` -> ``batch:CreateJobQueue``; None when IAM has no such action."""
    info = dataset().action(name)
    return info.name if info else None


def actions_for_call(service: str, operation: str) -> tuple[str, ...]:
    """The IAM actions that authorise ``service``/``operation`` (boto3 names).

    Empty when neither the exception table nor the IAM dataset knows the call: the caller
    must treat that as "unknown", never as "needs nothing".
    """
    mapped = OPERATION_ACTIONS.get((service, operation))
    if mapped is not None:
        return mapped
    found = canonical_action(f"{iam_prefix(service)}:{operation}")
    return (found,) if found else ()


__all__ = [
    "NO_PERMISSION_NEEDED",
    "OPERATION_ACTIONS",
    "SERVICE_PREFIXES",
    "actions_for_call",
    "canonical_action",
    "iam_prefix",
]
