"""The permission catalog's data: the seed's full policy, statement by statement.

Order and spelling of ``actions`` follow the seed exactly: the generator rebuilds the seed's
quick-start policy from them.  Resource templates use ``{region}``, ``{account}``, ``{prefix}``,
``{queue}``, ``{secrets_prefix}``, ``{log_group}``, ``{work_bucket}``, ``{work_objects}`` and
``{data_bucket}`` (see :meth:`batchforge.iam.scope.Scope.values`).
"""

from __future__ import annotations

from batchforge.iam.catalog_model import Need, ScopedStatement, Section
from batchforge.iam.templates import (
    CE,
    DATA_BUCKET,
    DATA_OBJECTS,
    EFS,
    FSX,
    JD,
    JOB,
    JQ,
    JQ_FORGE,
    LOG_GROUP,
    LOG_STREAM,
    PROFILE,
    ROLE,
    SECRET,
    WORK_BUCKET,
    WORK_OBJECTS,
    needs,
)

_ACCOUNT_REGION = "account and region"


BATCH_ENVIRONMENTS = Section(
    sid="BatchEnvironmentManagementCanBeRestricted",
    title="AWS Batch compute environments and job queues (Forge)",
    actions=(
        "batch:CreateComputeEnvironment",
        "batch:CreateJobQueue",
        "batch:DeleteComputeEnvironment",
        "batch:DeleteJobQueue",
        "batch:UpdateComputeEnvironment",
        "batch:UpdateJobQueue",
    ),
    resources=(CE, JQ_FORGE),
    touches=(CE, JQ_FORGE),
    needs=needs(
        "forge",
        True,
        ("batch:CreateComputeEnvironment", "Forge cannot create the compute environments"),
        ("batch:CreateJobQueue", "Forge cannot create the head and compute job queues"),
        (
            "batch:DeleteComputeEnvironment",
            "deleting the environment leaves compute environments behind",
        ),
        ("batch:DeleteJobQueue", "deleting the environment leaves job queues behind"),
        (
            "batch:UpdateComputeEnvironment",
            "compute environments cannot be disabled, so they cannot be deleted",
        ),
        ("batch:UpdateJobQueue", "job queues cannot be disabled, so they cannot be deleted"),
    ),
    scoping="Account and region; names must keep the TowerForge- prefix Forge uses.",
)

BATCH_LISTING = Section(
    sid="BatchEnvironmentListing",
    title="AWS Batch describe calls",
    actions=(
        "batch:DescribeComputeEnvironments",
        "batch:DescribeJobDefinitions",
        "batch:DescribeJobQueues",
        "batch:DescribeJobs",
    ),
    resources=("*",),
    needs=(
        Need(
            "batch:DescribeComputeEnvironments",
            "forge",
            True,
            "Forge cannot wait for compute environments to become VALID or to be deleted",
        ),
        Need(
            "batch:DescribeJobDefinitions",
            "launch",
            True,
            "existing job definitions cannot be found and reused",
        ),
        Need(
            "batch:DescribeJobQueues",
            "forge",
            True,
            "Forge cannot wait for job queues to be ready or deleted",
        ),
        Need(
            "batch:DescribeJobQueues",
            "manual",
            False,
            "existing job queues cannot be listed or verified: type the queue names",
        ),
        Need("batch:DescribeJobs", "launch", True, "run status is never updated"),
    ),
    scoping='Cannot be restricted: AWS Batch describe actions only accept Resource "*".',
)

BATCH_JOBS = Section(
    sid="BatchJobsManagementCanBeRestricted",
    title="AWS Batch jobs and job definitions",
    actions=(
        "batch:CancelJob",
        "batch:RegisterJobDefinition",
        "batch:SubmitJob",
        "batch:TagResource",
        "batch:TerminateJob",
    ),
    resources=(JD, JQ, JOB),
    touches=(JD, JQ, JOB),
    tag_condition=True,
    needs=(
        *needs(
            "launch",
            True,
            ("batch:CancelJob", "queued runs cannot be cancelled"),
            ("batch:RegisterJobDefinition", "the head job definition cannot be created"),
            ("batch:SubmitJob", "pipelines cannot be launched"),
            ("batch:TagResource", "jobs cannot carry the run's resource labels"),
            ("batch:TerminateJob", "running runs cannot be cancelled"),
        ),
        Need(
            "batch:TagResource",
            "forge",
            True,
            "Forge cannot create its job queues: they are created with tags, which AWS "
            "authorises as batch:TagResource",
            touches=(JQ_FORGE,),
        ),
    ),
    scoping="Account, region and job queue names; optionally resource tags "
    "(StringEqualsIfExists on aws:ResourceTag/KEY). Job and job definition names are "
    'dynamic and stay "*".',
)

LAUNCH_TEMPLATES = Section(
    sid="LaunchTemplateManagement",
    title="EC2 launch templates (Forge)",
    actions=(
        "ec2:CreateLaunchTemplate",
        "ec2:DeleteLaunchTemplate",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
    ),
    resources=("*",),
    needs=needs(
        "forge",
        True,
        ("ec2:CreateLaunchTemplate", "Forge cannot create the launch template"),
        ("ec2:DeleteLaunchTemplate", "deleting the environment leaves the launch template"),
        ("ec2:DescribeLaunchTemplates", "Forge cannot find its launch template again"),
        ("ec2:DescribeLaunchTemplateVersions", "Forge cannot read its launch template"),
    ),
    scoping='Cannot be restricted by name or tag (per the seed): Resource "*".',
)

PASS_ROLE = Section(
    sid="PassRolesToBatchCanBeRestricted",
    title="Pass IAM roles to AWS Batch and EC2",
    actions=("iam:PassRole",),
    resources=("*",),
    scoped_resources=(ROLE,),
    touches=(ROLE,),
    condition={
        "StringEquals": {"iam:PassedToService": ["batch.amazonaws.com", "ec2.amazonaws.com"]}
    },
    needs=(
        Need(
            "iam:PassRole",
            "forge",
            True,
            "compute environments cannot get their service role",
            context=(("iam:PassedToService", "batch.amazonaws.com"),),
        ),
        Need(
            "iam:PassRole",
            "forge",
            True,
            "instances cannot get their instance role",
            context=(("iam:PassedToService", "ec2.amazonaws.com"),),
        ),
        # RegisterJobDefinition with jobRoleArn / executionRoleArn passes the roles to AWS
        # Batch (iam:PassedToService is batch.amazonaws.com, not ecs-tasks: Seqera's launch-only
        # policy for manual environments grants exactly that).  Optional: an environment
        # without a head job role or execution role passes none.
        Need(
            "iam:PassRole",
            "launch",
            False,
            "the head job definition cannot carry the head job role and execution role: "
            "launches on environments that set them fail",
            context=(("iam:PassedToService", "batch.amazonaws.com"),),
        ),
    ),
    scoping="Account and the TowerForge- role name prefix (add the ARNs of roles you created "
    "yourself); keep the iam:PassedToService condition.",
)

LOGS = Section(
    sid="CloudWatchLogsAccessCanBeRestricted",
    title="CloudWatch Logs (job logs)",
    actions=(
        "logs:Describe*",
        "logs:FilterLogEvents",
        "logs:Get*",
        "logs:List*",
        "logs:StartQuery",
        "logs:StopQuery",
        "logs:TestMetricFilter",
    ),
    resources=("*",),
    scoped_resources=(LOG_GROUP,),
    touches=(LOG_GROUP, LOG_STREAM),
    default_features=("logs",),
    needs=(
        Need("logs:GetLogEvents", "logs", True, "job logs cannot be shown"),
        *needs(
            "logs",
            False,
            ("logs:DescribeLogStreams", "log streams cannot be listed"),
            ("logs:FilterLogEvents", "logs cannot be searched"),
            ("logs:StartQuery", "Logs Insights queries cannot run"),
            ("logs:GetQueryResults", "Logs Insights results cannot be read"),
        ),
    ),
    scoping="Account, region and the compute environment's log group (/aws/batch/job).",
    note="The seed's scoped example uses log-group:/aws/batch/job/*, which does not match the "
    "log group /aws/batch/job itself; the generator uses log-group:/aws/batch/job:*.",
)

S3 = Section(
    sid="OptionalS3PlatformDataAccessCanBeRestricted",
    title="S3 work directory and Data Explorer",
    optional=True,
    actions=("s3:Get*", "s3:List*", "s3:PutObject"),
    resources=("*",),
    needs=(
        Need(
            "s3:GetBucketLocation",
            "work-dir",
            True,
            "the work directory's bucket region cannot be checked",
            (WORK_BUCKET,),
        ),
        Need(
            "s3:ListBucket",
            "work-dir",
            True,
            "the work directory cannot be checked",
            (WORK_BUCKET,),
        ),
        Need(
            "s3:GetObject",
            "work-dir",
            False,
            "Nextflow log files cannot be fetched",
            (WORK_OBJECTS,),
        ),
        Need(
            "s3:PutObject",
            "launch",
            True,
            "the launch files (config, params, pre/post-run scripts) cannot be uploaded to "
            "the work directory, where the head job fetches them",
            (WORK_OBJECTS,),
        ),
        Need(
            "s3:ListAllMyBuckets",
            "data-explorer",
            False,
            "buckets are not discovered: add them as data links",
        ),
        Need(
            "s3:GetBucketLocation",
            "data-explorer",
            True,
            "buckets cannot be opened",
            (DATA_BUCKET,),
        ),
        Need(
            "s3:ListBucket",
            "data-explorer",
            True,
            "bucket contents cannot be browsed",
            (DATA_BUCKET,),
        ),
        Need(
            "s3:GetObject",
            "data-explorer",
            True,
            "objects cannot be previewed or downloaded",
            (DATA_OBJECTS,),
        ),
        Need("s3:PutObject", "data-explorer", True, "objects cannot be uploaded", (DATA_OBJECTS,)),
    ),
    scoped=(
        ScopedStatement(
            "S3CheckBucketWorkDirectory",
            ("s3:GetBucketLocation", "s3:ListBucket"),
            (WORK_BUCKET,),
            ("work-dir",),
        ),
        # The seed's example is S3ReadOnlyNextflowLogFiles (GetObject only); a launch also
        # writes its launch files there (s3:PutObject), so one statement carries both.
        ScopedStatement(
            "S3NextflowLogAndLaunchFiles",
            ("s3:GetObject", "s3:PutObject"),
            (WORK_OBJECTS,),
            ("work-dir", "launch"),
        ),
        ScopedStatement(
            "S3ReadWriteBucketsForStudiosDataExplorer",
            ("s3:Get*", "s3:List*", "s3:PutObject"),
            (DATA_BUCKET, DATA_OBJECTS),
            ("data-explorer",),
        ),
        ScopedStatement("S3ListAllMyBuckets", ("s3:ListAllMyBuckets",), ("*",), ("data-explorer",)),
    ),
    scoping="The work directory bucket and path, and the Data Explorer buckets.",
)

IAM_ROLES = Section(
    sid="OptionalIAMManagementCanBeRestricted",
    title="IAM roles and instance profile created by Forge",
    optional=True,
    actions=(
        "iam:AddRoleToInstanceProfile",
        "iam:AttachRolePolicy",
        "iam:CreateInstanceProfile",
        "iam:CreateRole",
        "iam:DeleteInstanceProfile",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:GetRole",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:PutRolePolicy",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:TagInstanceProfile",
        "iam:TagRole",
    ),
    resources=(ROLE, PROFILE),
    touches=(ROLE, PROFILE),
    needs=needs(
        "iam-roles",
        True,
        ("iam:AddRoleToInstanceProfile", "the instance profile gets no role"),
        ("iam:AttachRolePolicy", "roles get no managed policies"),
        ("iam:CreateInstanceProfile", "the instance profile cannot be created"),
        ("iam:CreateRole", "roles cannot be created: give existing role ARNs instead"),
        ("iam:DeleteInstanceProfile", "deleting the environment leaves the instance profile"),
        ("iam:DeleteRole", "deleting the environment leaves roles behind"),
        ("iam:DeleteRolePolicy", "roles with inline policies cannot be deleted"),
        ("iam:DetachRolePolicy", "roles with managed policies cannot be deleted"),
        (
            "iam:GetRole",
            "existing roles cannot be checked, and Forge cannot wait for new roles to be "
            "known to IAM before handing them to Batch (compute environments INVALID)",
        ),
        ("iam:ListAttachedRolePolicies", "roles cannot be cleaned up before deletion"),
        ("iam:ListRolePolicies", "roles cannot be cleaned up before deletion"),
        ("iam:PutRolePolicy", "roles get no inline policies (S3, secrets, EBS auto-scaling)"),
        ("iam:RemoveRoleFromInstanceProfile", "the instance profile cannot be deleted"),
        ("iam:TagInstanceProfile", "the instance profile cannot be tagged"),
        ("iam:TagRole", "roles cannot be tagged"),
    ),
    scoping="Account and the TowerForge- name prefix.",
)

SSM_AMI = Section(
    sid="OptionalFetchOptimizedAMIMetadata",
    title="SSM public parameters for the ECS-optimized AMI",
    optional=True,
    actions=("ssm:GetParameters",),
    resources=("arn:aws:ssm:{region}:*:parameter/aws/service/ecs/*",),
    touches=("arn:aws:ssm:{region}:*:parameter/aws/service/ecs/optimized-ami/*",),
    needs=needs(
        "ssm-ami",
        True,
        ("ssm:GetParameters", "the ECS-optimized AMI cannot be found: give an AMI id"),
    ),
    scoping='Region. The account part stays "*": public parameters have no account.',
)

EC2_DESCRIBE = Section(
    sid="OptionalEC2MetadataDescribe",
    title="EC2 describe calls for drop-down lists",
    optional=True,
    actions=(
        "ec2:DescribeAccountAttributes",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeKeyPairs",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
    ),
    resources=("*",),
    needs=needs(
        "ec2-describe",
        True,
        ("ec2:DescribeAccountAttributes", "the default VPC cannot be found"),
        ("ec2:DescribeImages", "AMIs cannot be checked"),
        (
            "ec2:DescribeInstanceTypeOfferings",
            "instance types available in the region are not listed",
        ),
        ("ec2:DescribeInstanceTypes", "instance types are not listed"),
        ("ec2:DescribeKeyPairs", "key pairs are not listed"),
        ("ec2:DescribeSecurityGroups", "security groups are not listed: type their ids"),
        ("ec2:DescribeSubnets", "subnets are not listed: type their ids"),
        ("ec2:DescribeVpcs", "VPCs are not listed: type their ids"),
    ),
    scoping='Cannot be restricted: EC2 describe actions only accept Resource "*".',
)

FSX = Section(
    sid="OptionalFSXManagementCanBeRestricted",
    title="FSx for Lustre file systems",
    optional=True,
    actions=(
        "fsx:CreateFileSystem",
        "fsx:DeleteFileSystem",
        "fsx:DescribeFileSystems",
        "fsx:TagResource",
    ),
    resources=("*",),
    touches=(FSX,),
    needs=needs(
        "fsx",
        True,
        ("fsx:CreateFileSystem", "FSx file systems cannot be created"),
        ("fsx:DeleteFileSystem", "deleting the environment leaves the file system"),
        ("fsx:DescribeFileSystems", "the file system state cannot be followed"),
        ("fsx:TagResource", "file systems cannot be tagged (needed to create them with tags)"),
    ),
    scoped=(
        ScopedStatement("FSxDescribe", ("fsx:DescribeFileSystems",), ("*",), ("fsx",)),
        ScopedStatement(
            "FSxManagement",
            ("fsx:CreateFileSystem", "fsx:DeleteFileSystem", "fsx:TagResource"),
            (FSX,),
            ("fsx",),
        ),
    ),
    scoping=f"Management actions: {_ACCOUNT_REGION}; file system ids are not known in advance.",
)

EFS = Section(
    sid="OptionalEFSManagementCanBeRestricted",
    title="EFS file systems",
    optional=True,
    actions=(
        "elasticfilesystem:CreateFileSystem",
        "elasticfilesystem:DeleteFileSystem",
        "elasticfilesystem:CreateMountTarget",
        "elasticfilesystem:DeleteMountTarget",
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:DescribeMountTargets",
        "elasticfilesystem:UpdateFileSystem",
        "elasticfilesystem:PutLifecycleConfiguration",
        "elasticfilesystem:TagResource",
    ),
    resources=("*",),
    touches=(EFS,),
    needs=(
        *needs(
            "efs",
            True,
            ("elasticfilesystem:CreateFileSystem", "EFS file systems cannot be created"),
            (
                "elasticfilesystem:DeleteFileSystem",
                "deleting the environment leaves the file system",
            ),
            ("elasticfilesystem:CreateMountTarget", "the file system cannot be mounted"),
            ("elasticfilesystem:DeleteMountTarget", "the file system cannot be deleted"),
            ("elasticfilesystem:DescribeFileSystems", "the file system state cannot be followed"),
            ("elasticfilesystem:DescribeMountTargets", "mount targets cannot be followed"),
            ("elasticfilesystem:TagResource", "file systems cannot be created with tags"),
        ),
        *needs(
            "efs",
            False,
            ("elasticfilesystem:UpdateFileSystem", "throughput settings cannot be changed"),
            ("elasticfilesystem:PutLifecycleConfiguration", "lifecycle rules cannot be set"),
        ),
    ),
    scoped=(
        ScopedStatement(
            "EFSDescribe",
            ("elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DescribeMountTargets"),
            ("*",),
            ("efs",),
        ),
        ScopedStatement(
            "EFSManagement",
            (
                "elasticfilesystem:CreateFileSystem",
                "elasticfilesystem:DeleteFileSystem",
                "elasticfilesystem:CreateMountTarget",
                "elasticfilesystem:DeleteMountTarget",
                "elasticfilesystem:UpdateFileSystem",
                "elasticfilesystem:PutLifecycleConfiguration",
                "elasticfilesystem:TagResource",
            ),
            (EFS,),
            ("efs",),
        ),
    ),
    scoping=f"Management actions: {_ACCOUNT_REGION}. CreateFileSystem supports no "
    'resource-level permissions and needs Resource "*".',
)

SECRETS_LISTING = Section(
    sid="OptionalPipelineSecretsListing",
    title="List Secrets Manager secrets",
    optional=True,
    actions=("secretsmanager:ListSecrets",),
    resources=("*",),
    needs=needs(
        "secrets",
        False,
        ("secretsmanager:ListSecrets", "leftover pipeline secrets cannot be found"),
    ),
    scoping='Cannot be restricted: ListSecrets only accepts Resource "*".',
)

SECRETS = Section(
    sid="OptionalPipelineSecretsManagementCanBeRestricted",
    title="Pipeline secrets in Secrets Manager",
    optional=True,
    actions=(
        "secretsmanager:DescribeSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:CreateSecret",
    ),
    resources=(SECRET,),
    touches=(SECRET,),
    needs=needs(
        "secrets",
        True,
        ("secretsmanager:DescribeSecret", "pipeline secrets cannot be checked"),
        ("secretsmanager:DeleteSecret", "pipeline secrets stay in AWS after the run"),
        (
            "secretsmanager:CreateSecret",
            "runs cannot use pipeline secrets, and report no tasks or progress unless "
            "BATCHFORGE_TRACE_TOKEN_DELIVERY=environment (their trace token goes as a secret)",
        ),
    ),
    scoping="Account, region (where pipelines run) and the tower- name prefix.",
)

SEED_SECTIONS: tuple[Section, ...] = (
    BATCH_ENVIRONMENTS,
    BATCH_LISTING,
    BATCH_JOBS,
    LAUNCH_TEMPLATES,
    PASS_ROLE,
    LOGS,
    S3,
    IAM_ROLES,
    SSM_AMI,
    EC2_DESCRIBE,
    FSX,
    EFS,
    SECRETS_LISTING,
    SECRETS,
)
"""The seed's full policy, in the seed's order."""
