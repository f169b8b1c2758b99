"""Which IAM action each S3 call of the Data Explorer needs, and what to say when it is denied.

The seed policy grants ``s3:Get*``, ``s3:List*`` and ``s3:PutObject``: browsing, previews,
downloads, uploads (multipart included: CreateMultipartUpload, UploadPart and
CompleteMultipartUpload are all authorised as ``s3:PutObject``) and folders work with exactly
that.  Two actions are *extras*: deleting objects (``s3:DeleteObject``) and aborting a failed
multipart upload (``s3:AbortMultipartUpload``).  They are used when granted; when AWS denies
them, the error says which action to add and on which resource.
"""

from __future__ import annotations

from batchforge.errors import AwsAccessDenied, AwsError

IAM_ACTION = {
    "ListBuckets": "s3:ListAllMyBuckets",
    "GetBucketLocation": "s3:GetBucketLocation",
    "ListObjectsV2": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "ListParts": "s3:ListMultipartUploadParts",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObjects": "s3:DeleteObject",
    "DeleteObject": "s3:DeleteObject",
}
BUCKET_LEVEL = {"ListBuckets", "GetBucketLocation", "ListObjectsV2"}

EXTRAS = {
    "s3:DeleteObject": "delete files and folders",
    "s3:AbortMultipartUpload": "discard the parts of a failed upload at once",
}
"""Optional actions: batchforge works without them and offers what they enable when granted."""
EXTRAS_SECTION = "OptionalExtraS3ObjectCleanup"
"""The permission catalog's section granting the extras (:mod:`batchforge.iam.extras`)."""


def iam_action(operation: str) -> str:
    return IAM_ACTION.get(operation, f"s3:{operation}")


def denied_hint(operation: str, resource_arn: str) -> str:
    """What to add to the credentials' IAM policy so ``operation`` is allowed."""
    action = iam_action(operation)
    hint = f"Allow {action} on {resource_arn} in the IAM policy of the data link's credentials."
    if action in EXTRAS:
        hint += (
            f" It is optional (seed policy: s3:Get*, s3:List*, s3:PutObject): without it "
            f"batchforge cannot {EXTRAS[action]} (policy section {EXTRAS_SECTION})."
        )
    if action == "s3:AbortMultipartUpload":
        hint += (
            " The unfinished upload is invisible (no partial object); its parts are billed "
            "until an AbortIncompleteMultipartUpload lifecycle rule removes them."
        )
    return hint


def explain(error: AwsError, bucket: str, key: str | None = None) -> AwsError:
    """``error`` with a hint naming the IAM action and resource when it is an AccessDenied."""
    if not isinstance(error, AwsAccessDenied):
        return error
    arn = f"arn:aws:s3:::{bucket}"
    if error.operation not in BUCKET_LEVEL:
        arn += f"/{key}" if key else "/*"
    error.hint = denied_hint(error.operation, arn)
    return error
