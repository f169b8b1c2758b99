"""Resource templates and helpers shared by the catalog's seed sections and extras.

Placeholders: ``{region}``, ``{account}``, ``{prefix}``, ``{queue}``, ``{secrets_prefix}``,
``{log_group}``, ``{work_bucket}``, ``{work_objects}``, ``{data_bucket}`` -- filled by
:meth:`batchforge.iam.scope.Scope.values`.
"""

from __future__ import annotations

from batchforge.iam.catalog_model import Need

BATCH = "arn:aws:batch:{region}:{account}"
CE = f"{BATCH}:compute-environment/{{prefix}}*"
JQ_FORGE = f"{BATCH}:job-queue/{{prefix}}*"
JQ = f"{BATCH}:job-queue/{{queue}}"
JD = f"{BATCH}:job-definition/*"
JD_REVISION = f"{BATCH}:job-definition/*:*"
JOB = f"{BATCH}:job/*"
ROLE = "arn:aws:iam::{account}:role/{prefix}*"
PROFILE = "arn:aws:iam::{account}:instance-profile/{prefix}*"
LOG_GROUP = "arn:aws:logs:{region}:{account}:log-group:{log_group}:*"
LOG_STREAM = "arn:aws:logs:{region}:{account}:log-group:{log_group}:log-stream:*"
WORK_BUCKET = "arn:aws:s3:::{work_bucket}"
WORK_OBJECTS = "arn:aws:s3:::{work_objects}"
DATA_BUCKET = "arn:aws:s3:::{data_bucket}"
DATA_OBJECTS = "arn:aws:s3:::{data_bucket}/*"
FSX = "arn:aws:fsx:{region}:{account}:file-system/*"
EFS = "arn:aws:elasticfilesystem:{region}:{account}:file-system/*"
SECRET = "arn:aws:secretsmanager:{region}:{account}:secret:{secrets_prefix}*"


def needs(feature: str, required: bool, *pairs: tuple[str, str]) -> tuple[Need, ...]:
    """One Need per (action, why) pair, all for ``feature``."""
    return tuple(Need(action, feature, required, why) for action, why in pairs)
