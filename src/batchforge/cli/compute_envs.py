"""``batchforge compute-envs``: Forge and manual AWS Batch compute environments.

The subcommands and options are ``tw compute-envs``'s (``-i ID``/``-n NAME``, ``-w``,
``--wait=STATUS``, ``--create-efs``, ``--pre-run FILE``, ``-e compute:NAME=VALUE``...);
batchforge's own spellings (a positional name or id, ``--efs-create``, ``--image-id``,
``--no-dispose``, a bare ``--wait``) are kept as aliases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli.common import emit_json, emit_table, fail, pick, say
from batchforge.cli.tw_infra import (
    IdOpt,
    NameOpt,
    Overwrite,
    WaitStatusCommand,
    WorkspaceOpt,
    csv,
    emit,
    env_variables,
    in_workspace,
    label_pairs,
    read_text_option,
    upper_choice,
    wait_for_status,
    wait_status_value,
    workspace_ref_text,
)

if TYPE_CHECKING:
    from batchforge.cli.common import State
    from batchforge.client import BatchforgeClient

app = typer.Typer(help="Manage compute environments.", no_args_is_help=True)
add_app = typer.Typer(help="Add a compute environment.", no_args_is_help=True)
aws_app = typer.Typer(
    help="AWS Batch: forge (batchforge creates it) or manual.", no_args_is_help=True
)
primary_app = typer.Typer(help="The workspace's primary compute environment.", no_args_is_help=True)
app.add_typer(add_app, name="add")
add_app.add_typer(aws_app, name="aws-batch")
app.add_typer(primary_app, name="primary")

Name = Annotated[str, typer.Option("--name", "-n", help="Compute environment name.")]
Creds = Annotated[
    str | None,
    typer.Option(
        "--credentials",
        "-c",
        help="Credentials name or id (default: the workspace's only AWS credentials).",
        show_default=False,
    ),
]
Region = Annotated[str, typer.Option("--region", "-r", help="AWS region.")]
WorkDir = Annotated[
    str, typer.Option("--work-dir", help="s3://bucket/path (Nextflow on AWS Batch needs S3).")
]
WaitStatus = Annotated[
    str | None,
    typer.Option(
        "--wait",
        help="Wait until this status (CREATING, AVAILABLE, ...; a bare --wait: AVAILABLE); "
        "exit 1 when it ends in another (ERRORED, INVALID).",
        show_default=False,
    ),
]
WaitDeleted = Annotated[
    bool, typer.Option("--wait", help="Wait until deleted (exit 1 when it ends ERRORED).")
]
Labels = Annotated[
    list[str] | None,
    typer.Option("--labels", help="Resource labels NAME=VALUE, comma-separated (AWS tags)."),
]
Description = Annotated[
    str | None, typer.Option("--description", "-d", help="Description.", show_default=False)
]
Target = Annotated[
    str | None,
    typer.Argument(help="Compute environment name or id (or -i/-n).", show_default=False),
]
PreRun = Annotated[
    str | None, typer.Option("--pre-run", help="File with a script run before the pipeline.")
]
PostRun = Annotated[
    str | None, typer.Option("--post-run", help="File with a script run after the pipeline.")
]
NextflowConfig = Annotated[
    str | None,
    typer.Option("--nextflow-config", help="File with Nextflow configuration for every run."),
]
EnvVars = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        "-e",
        help="NAME=VALUE for the head job; compute:NAME=VALUE for the tasks, both:NAME=VALUE "
        "for both (repeatable).",
    ),
]
HeadJobCpus = Annotated[int | None, typer.Option("--head-job-cpus", help="Head job CPUs.")]
HeadJobMemory = Annotated[
    int | None, typer.Option("--head-job-memory", help="Head job memory (MiB).")
]
HeadJobRole = Annotated[
    str | None, typer.Option("--head-job-role", help="IAM role ARN for the head job.")
]
ComputeJobRole = Annotated[
    str | None, typer.Option("--compute-job-role", help="IAM role ARN for the tasks.")
]
ExecutionRole = Annotated[
    str | None,
    typer.Option("--batch-execution-role", "--execution-role", help="ECS task execution role ARN."),
]
CliPath = Annotated[str | None, typer.Option("--cli-path", help="AWS CLI path on the hosts.")]
KmsKey = Annotated[
    str | None,
    typer.Option("--secrets-kms-key", help="KMS key for the per-run copies of pipeline secrets."),
]
FusionV2 = Annotated[bool, typer.Option("--fusion-v2", help="Fusion v2 (not supported).")]
Wave = Annotated[bool, typer.Option("--wave", help="Wave containers (not supported).")]
FastStorage = Annotated[
    bool, typer.Option("--fast-storage", help="NVMe instance storage (not supported).")
]
FusionMetrics = Annotated[
    bool | None,
    typer.Option(
        "--fusion-metrics-collection/--no-fusion-metrics-collection",
        help="Fusion metrics (Fusion is not supported; accepted for tw).",
        show_default=False,
    ),
]


def _ref(target: str | None, id_: str | None, name: str | None) -> str:
    return pick(target, id_, name, "compute environment")


def _seqera_features(fusion_v2: bool, wave: bool) -> None:
    if fusion_v2 and not wave:
        raise fail("Fusion v2 requires Wave service (--wave).")


def _common_config(
    work_dir: str,
    region: str,
    pre_run: str | None,
    post_run: str | None,
    nextflow_config: str | None,
    env: list[str] | None,
    **fields: Any,
) -> dict[str, Any]:
    config = {
        "region": region,
        "workDir": work_dir,
        "preRunScript": read_text_option(pre_run, "--pre-run"),
        "postRunScript": read_text_option(post_run, "--post-run"),
        "nextflowConfig": read_text_option(nextflow_config, "--nextflow-config"),
        "environment": env_variables(env) or None,
        **fields,
    }
    return {k: v for k, v in config.items() if v is not None and v is not False}


@aws_app.command("forge", cls=WaitStatusCommand)
def add_forge(
    ctx: typer.Context,
    name: Name,
    region: Region,
    work_dir: WorkDir,
    credentials: Creds = None,
    workspace: WorkspaceOpt = None,
    wait: WaitStatus = None,
    description: Description = None,
    labels: Labels = None,
    max_cpus: Annotated[int, typer.Option("--max-cpus", help="Maximum CPUs")] = 256,
    min_cpus: Annotated[int, typer.Option("--min-cpus", help="Minimum CPUs")] = 0,
    provisioning_model: Annotated[
        str, typer.Option("--provisioning-model", help="SPOT or EC2")
    ] = "SPOT",
    instance_types: Annotated[
        list[str] | None, typer.Option("--instance-types", help="Comma-separated")
    ] = None,
    alloc_strategy: Annotated[str | None, typer.Option("--alloc-strategy")] = None,
    bid_percentage: Annotated[int | None, typer.Option("--bid-percentage")] = None,
    vpc_id: Annotated[str | None, typer.Option("--vpc-id")] = None,
    subnets: Annotated[list[str] | None, typer.Option("--subnets", help="Comma-separated")] = None,
    security_groups: Annotated[
        list[str] | None, typer.Option("--security-groups", help="Comma-separated")
    ] = None,
    key_pair: Annotated[str | None, typer.Option("--key-pair")] = None,
    ami_id: Annotated[
        str | None,
        typer.Option("--ami-id", "--image-id", help="Custom AMI (default: ECS-optimized)"),
    ] = None,
    ami_family: Annotated[str, typer.Option("--ami-family", help="al2023 or al2")] = "al2023",
    gpu: Annotated[
        bool,
        typer.Option(
            "--gpu", help="NVIDIA GPU tasks (default types: the g6, g6e, g5, g4dn the region has)"
        ),
    ] = False,
    arm64: Annotated[
        bool,
        typer.Option(
            "--arm64",
            help="Graviton tasks (default types: m7g, c7g, r7g, m6g, c6g, r6g; the head job "
            "stays on x86_64, the launcher image is amd64-only)",
        ),
    ] = False,
    boot_disk_size: Annotated[int | None, typer.Option("--boot-disk-size", help="GiB")] = None,
    ebs_blocksize: Annotated[
        int | None,
        typer.Option(
            "--ebs-blocksize",
            help="GiB of the first auto-expanding Docker volume and of each one added "
            "[default: 50]",
        ),
    ] = None,
    no_ebs_auto_scale: Annotated[
        bool,
        typer.Option(
            "--no-ebs-auto-scale",
            help="Fixed-size Docker storage: no EBS auto-scaling (on by default, as in tw).",
        ),
    ] = False,
    create_efs: Annotated[
        bool, typer.Option("--create-efs", "--efs-create", help="Create an EFS file system.")
    ] = False,
    efs_id: Annotated[str | None, typer.Option("--efs-id")] = None,
    efs_mount: Annotated[
        str | None, typer.Option("--efs-mount", help="[default: the work directory]")
    ] = None,
    fsx_size: Annotated[
        int | None, typer.Option("--fsx-size", help="GiB (1200 or multiples of 2400)")
    ] = None,
    fsx_dns: Annotated[str | None, typer.Option("--fsx-dns", help="Existing FSx DNS name")] = None,
    fsx_mount: Annotated[
        str | None, typer.Option("--fsx-mount", help="[default: the work directory]")
    ] = None,
    allow_buckets: Annotated[
        list[str] | None, typer.Option("--allow-buckets", help="Comma-separated")
    ] = None,
    preserve_resources: Annotated[
        bool,
        typer.Option(
            "--preserve-resources", "--no-dispose", help="Keep the AWS resources when deleted."
        ),
    ] = False,
    ecs_config: Annotated[
        str | None, typer.Option("--ecs-config", help="File appended to /etc/ecs/ecs.config")
    ] = None,
    head_job_cpus: HeadJobCpus = None,
    head_job_memory: HeadJobMemory = None,
    head_job_role: HeadJobRole = None,
    compute_job_role: ComputeJobRole = None,
    batch_execution_role: ExecutionRole = None,
    cli_path: CliPath = None,
    secrets_kms_key: KmsKey = None,
    pre_run: PreRun = None,
    post_run: PostRun = None,
    nextflow_config: NextflowConfig = None,
    env: EnvVars = None,
    fusion_v2: FusionV2 = False,
    wave: Wave = False,
    fast_storage: FastStorage = False,
    snapshots: Annotated[
        bool, typer.Option("--snapshots", help="Fusion snapshots (not supported).")
    ] = False,
    fargate: Annotated[
        bool, typer.Option("--fargate", help="Head job on Fargate (not supported).")
    ] = False,
    fusion: Annotated[bool, typer.Option("--fusion", hidden=True)] = False,
    fusion_metrics: FusionMetrics = None,
) -> None:
    """Create the AWS Batch infrastructure (roles, launch template, compute environments,
    queues, optional EFS/FSx) and register it."""
    if fusion:
        raise fail("Fusion v1 is deprecated, please use '--fusion-v2' instead.")
    _seqera_features(fusion_v2, wave)
    forge: dict[str, Any] = {
        "type": upper_choice(provisioning_model, "--provisioning-model", ("SPOT", "EC2")),
        "minCpus": min_cpus,
        "maxCpus": max_cpus,
        "instanceTypes": csv(instance_types) or ["optimal"],
        "allocStrategy": alloc_strategy.upper() if alloc_strategy else None,
        "bidPercentage": bid_percentage,
        "vpcId": vpc_id,
        "subnets": csv(subnets),
        "securityGroups": csv(security_groups),
        "ec2KeyPair": key_pair,
        "imageId": ami_id,
        "amiFamily": ami_family,
        "gpuEnabled": gpu,
        "arm64Enabled": arm64,
        "ebsBootSize": boot_disk_size,
        "ebsBlockSize": ebs_blocksize,
        "ebsAutoScale": not no_ebs_auto_scale,  # tw: .ebsAutoScale(!noEbsAutoScale)
        "efsCreate": create_efs,
        "efsId": efs_id,
        "efsMount": efs_mount,
        "fsxSize": fsx_size,
        "fsxName": fsx_dns,
        "fsxMount": fsx_mount,
        "allowBuckets": csv(allow_buckets),
        "disposeOnDeletion": not preserve_resources,
        "fargateHeadEnabled": fargate or None,
        "ecsConfig": read_text_option(ecs_config, "--ecs-config"),
    }
    config = _common_config(
        work_dir,
        region,
        pre_run,
        post_run,
        nextflow_config,
        env,
        headJobRole=head_job_role,
        computeJobRole=compute_job_role,
        executionRole=batch_execution_role,
        headJobCpus=head_job_cpus,
        headJobMemoryMb=head_job_memory,
        cliPath=cli_path,
        secretsKmsKeyId=secrets_kms_key,
        waveEnabled=wave,
        fusion2Enabled=fusion_v2,
        nvnmeStorageEnabled=fast_storage,
        fusionSnapshots=snapshots,
        forge={k: v for k, v in forge.items() if v is not None},
    )
    st = in_workspace(ctx, workspace)
    _add(st, name, credentials, config, labels, wait_status_value(wait), description)


@aws_app.command("manual", cls=WaitStatusCommand)
def add_manual(
    ctx: typer.Context,
    name: Name,
    region: Region,
    work_dir: WorkDir,
    head_queue: Annotated[str, typer.Option("--head-queue", help="Job queue for the head job")],
    compute_queue: Annotated[
        str | None, typer.Option("--compute-queue", help="Job queue for tasks")
    ] = None,
    credentials: Creds = None,
    workspace: WorkspaceOpt = None,
    wait: WaitStatus = None,
    description: Description = None,
    labels: Labels = None,
    head_job_cpus: HeadJobCpus = None,
    head_job_memory: HeadJobMemory = None,
    head_job_role: HeadJobRole = None,
    compute_job_role: ComputeJobRole = None,
    batch_execution_role: ExecutionRole = None,
    cli_path: CliPath = None,
    secrets_kms_key: KmsKey = None,
    pre_run: PreRun = None,
    post_run: PostRun = None,
    nextflow_config: NextflowConfig = None,
    env: EnvVars = None,
    fusion_v2: FusionV2 = False,
    wave: Wave = False,
    fast_storage: FastStorage = False,
    fusion_metrics: FusionMetrics = None,
) -> None:
    """Register existing AWS Batch queues (nothing is created or deleted in AWS)."""
    _seqera_features(fusion_v2, wave)
    config = _common_config(
        work_dir,
        region,
        pre_run,
        post_run,
        nextflow_config,
        env,
        headQueue=head_queue,
        computeQueue=compute_queue,
        headJobRole=head_job_role,
        computeJobRole=compute_job_role,
        executionRole=batch_execution_role,
        headJobCpus=head_job_cpus,
        headJobMemoryMb=head_job_memory,
        cliPath=cli_path,
        secretsKmsKeyId=secrets_kms_key,
        waveEnabled=wave,
        fusion2Enabled=fusion_v2,
        nvnmeStorageEnabled=fast_storage,
    )
    st = in_workspace(ctx, workspace)
    _add(st, name, credentials, config, labels, wait_status_value(wait), description)


def _credentials_id(client: BatchforgeClient, ref: str | None) -> str:
    """The credentials named or with id ``ref``; without one, the workspace's only AWS
    credentials (as ``tw``)."""
    if ref:
        return client.find_credentials(ref).id
    found = [c for c in client.list_credentials() if c.provider == "aws"]
    if not found:
        raise fail("No valid credentials found at the workspace.", "Add some: credentials add aws")
    if len(found) > 1:
        raise fail(
            "Multiple credentials match this compute environment. Please provide the "
            "credentials identifier that you want to use (-c/--credentials)."
        )
    return found[0].id


def _add(
    st: State,
    name: str,
    credentials: str | None,
    config: dict[str, Any],
    labels: list[str] | None,
    wait: str | None,
    description: str | None = None,
) -> None:
    pairs = label_pairs(labels)
    with st.client() as client:
        label_ids = [client.ensure_resource_label(n, v) for n, v in pairs]
        body: dict[str, Any] = {
            "name": name,
            "platform": "aws-batch",
            "credentialsId": _credentials_id(client, credentials),
            "config": {k: v for k, v in config.items() if v is not None},
        }
        if description:
            body["description"] = description
        ce_id = client.create_compute_env(body, label_ids)
        where = workspace_ref_text(client)
        emit(
            st,
            f"New AWS-BATCH compute environment '{name}' (id {ce_id}) added at {where} workspace.",
            {
                "computeEnvId": ce_id,
                "platform": "aws-batch",
                "id": ce_id,
                "name": name,
                "workspaceId": client.workspace_id,
                "workspaceRef": where,
            },
        )
        if wait:
            code = wait_for_status(st, client, ce_id, wait, ("AVAILABLE", "ERRORED", "INVALID"))
            if code:
                raise typer.Exit(code)


def _find(client: BatchforgeClient, ref: str) -> dict[str, Any]:
    """The environment (its describe JSON) named or with id ``ref``."""
    entry = client.find_compute_env(ref)
    return dict(client.request("GET", f"/compute-envs/{entry.id}").json()["computeEnv"])


@app.command("list")
def list_envs(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    status: Annotated[str | None, typer.Option(help="Filter by status")] = None,
) -> None:
    """List compute environments."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        items = client.list_compute_envs(status)
        where = workspace_ref_text(client) if st.structured else ""
    if st.structured:
        emit_json(
            {
                "workspaceRef": where,
                "computeEnvs": [item.model_dump(mode="json") for item in items],
            }
        )
        return
    emit_table(
        "Compute environments",
        ["ID", "Name", "Status", "Region", "Work dir", "Primary"],
        [[i.id, i.name, i.status, i.region, i.workDir, "yes" if i.primary else ""] for i in items],
    )


@app.command("view")
def view(
    ctx: typer.Context,
    target: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Show a compute environment with the resources Forge made (-o json: the environment,
    as tw prints it)."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        env = _find(client, _ref(target, id_, name))
    if st.structured:
        emit_json(env)
        return
    config = env.get("config") or {}
    say(
        f"{env['name']} ({env['id']}): {env['status']}"
        + (f" - {env['message']}" if env.get("message") else "")
    )
    say(f"  region {config.get('region')}, work dir {config.get('workDir')}")
    say(f"  head queue {config.get('headQueue')}, compute queue {config.get('computeQueue')}")
    forged = config.get("forgedResources") or []
    if forged:
        emit_table(
            "Forged resources",
            ["Type", "Name", "Id/ARN", "Status"],
            [
                [r.get("type"), r.get("name"), r.get("arn") or r.get("id"), r.get("status")]
                for r in forged
            ],
        )


@app.command("update")
def update(
    ctx: typer.Context,
    target: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    new_name: Annotated[str | None, typer.Option("--new-name", help="New name.")] = None,
    description: Description = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Rename an environment or change its description."""
    if new_name is None and description is None:
        raise fail("Nothing to update: give --new-name and/or --description.", code=2)
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        env = client.find_compute_env(_ref(target, id_, name))
        fields = {"name": new_name or env.name}
        if description is not None:
            fields["description"] = description
        client.update_compute_env(env.id, **fields)
        where = workspace_ref_text(client)
    emit(
        st,
        f"Compute environment '{env.name}' updated at {where} workspace.",
        {"wspRef": where, "ceName": env.name, "id": env.id},
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    target: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
    wait: WaitDeleted = False,
    force: Annotated[bool, typer.Option("--force", help="Also while CREATING")] = False,
    preserve_resources: Annotated[
        bool, typer.Option("--preserve-resources", help="Keep the AWS resources")
    ] = False,
) -> None:
    """Delete a compute environment, disposing of what Forge created (unless preserved)."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        env = client.find_compute_env(_ref(target, id_, name))
        client.delete_compute_env(env.id, force, True if preserve_resources else None)
        where = workspace_ref_text(client)
        emit(
            st,
            f"Compute environment '{env.name}' ({env.id}) deleted at {where} workspace.",
            {"id": env.id, "workspaceRef": where, "workspaceId": client.workspace_id},
        )
        if wait:
            code = wait_for_status(st, client, env.id, "DELETED", ("ERRORED", "INVALID"))
            if code:
                raise typer.Exit(code)


@app.command("retry")
def retry(
    ctx: typer.Context,
    target: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until it settles.")] = False,
) -> None:
    """Try a failed creation, deletion or rollback again now (after it gave up, or while it
    waits to retry)."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        env = client.find_compute_env(_ref(target, id_, name))
        client.retry_compute_env(env.id)
        fresh = client.describe_compute_env(env.id)
        say(f"Retrying compute environment '{env.name}' ({fresh.status}).")
        code = 0
        if wait and fresh.status == "CREATING":
            code = wait_for_status(st, client, env.id, "AVAILABLE", ("ERRORED", "INVALID"))
        elif wait and fresh.status == "DELETING":
            code = wait_for_status(st, client, env.id, "DELETED", ("ERRORED", "INVALID"))
        elif wait:  # a rollback: the environment stays ERRORED, its message tells the end
            say("The rollback runs in the background; `compute-envs view` shows its progress.")
        if code:
            raise typer.Exit(code)


@app.command("validate")
def validate(
    ctx: typer.Context,
    target: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Mark an INVALID environment AVAILABLE unchecked.")
    ] = False,
) -> None:
    """Check the environment's queues in AWS now (exit 1 when INVALID)."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        env = client.find_compute_env(_ref(target, id_, name))
        answer = client.request(
            "POST",
            f"/compute-envs/{env.id}/validate",
            json={},
            params={"force": "true" if force else None},
        ).json()
        where = workspace_ref_text(client) if st.structured else ""
    # Seqera answers {status, transientError, message}; older servers the environment.
    result = answer.get("computeEnv", answer) if isinstance(answer, dict) else {}
    status, message = result.get("status"), result.get("message")
    emit(
        st,
        f"{env.name}: {status}" + (f" - {message}" if message else ""),
        {
            "id": env.id,
            "name": env.name,
            "workspaceRef": where,
            "status": status,
            "transientError": bool(result.get("transientError")),
            "message": message,
        },
    )
    if status == "INVALID":
        raise typer.Exit(1)


@primary_app.command("get")
def primary_get(ctx: typer.Context, workspace: WorkspaceOpt = None) -> None:
    """The workspace's primary compute environment (exit 1 when there is none)."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        primary = [e for e in client.list_compute_envs() if e.primary]
        where = workspace_ref_text(client)
    if not primary:
        raise fail(f"No primary compute environment at {where} workspace.")
    env = primary[0]
    emit(
        st,
        f"Primary compute environment for workspace '{where}' is '{env.name} ({env.id})'.",
        {"id": env.id, "name": env.name, "platform": env.platform},
    )


@primary_app.command("set")
def primary_set(
    ctx: typer.Context,
    target: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Make an environment the workspace's primary one."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        env = client.find_compute_env(_ref(target, id_, name))
        client.set_primary_compute_env(env.id)
        where = workspace_ref_text(client)
    emit(
        st,
        f"Primary compute environment for workspace '{where}' was set to '{env.name} ({env.id})'.",
        {"id": env.id, "name": env.name, "platform": env.platform},
    )


@app.command("export")
def export(
    ctx: typer.Context,
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="[NAME_OR_ID] [FILE]: the environment (unless -i/-n) and the output file "
            "(default or '-': stdout)",
            show_default=False,
        ),
    ] = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export the configuration as ``tw compute-envs export`` writes it (the config object
    with its resource labels; no ids, no forged resources)."""
    rest = list(args or [])
    target = None if (id_ or name) else (rest.pop(0) if rest else None)
    if len(rest) > 1:
        raise fail(f"Unexpected arguments: {' '.join(rest[1:])}.", code=2)
    file = rest[0] if rest else None
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        env = _find(client, _ref(target, id_, name))
    config = {
        k: v
        for k, v in (env.get("config") or {}).items()
        if v is not None and k not in ("forgedResources", "volumes")
    }
    if config.get("forge"):
        config.pop("headQueue", None)
        config.pop("computeQueue", None)
    config.setdefault("discriminator", "aws-batch")
    labels = [label for label in env.get("labels") or [] if label.get("resource")]
    config["labels"] = labels
    text = json.dumps(config, indent=2)
    if file and file != "-":
        Path(file).write_text(text + "\n")
        emit(st, f"Compute environment exported into '{file}'.", {"fileName": file})
    else:
        typer.echo(text)


# Output-only fields of an export: the forged resources and queues of the environment it came
# from (a forged environment gets its own).
EXPORT_ONLY = ("forgedResources", "deletedResources")


def _export_parts(data: Any) -> tuple[dict[str, Any], str | None, list[str]]:
    """(config, name, resource labels as NAME=VALUE) of an export: ``tw compute-envs export``
    writes the config object itself with a ``labels`` list; older ``batchforge compute-envs
    export`` nests it under ``config`` beside ``name``."""
    if not isinstance(data, dict):
        raise fail("The export must be a JSON object.")
    if isinstance(data.get("config"), dict):
        config, name = dict(data["config"]), data.get("name")
    else:
        config, name = {k: v for k, v in data.items() if k != "labels"}, None
    labels = [
        f"{item['name']}={item.get('value') or ''}"
        for item in data.get("labels") or []
        if isinstance(item, dict) and item.get("name") and item.get("resource")
    ]
    for key in EXPORT_ONLY:
        config.pop(key, None)
    if isinstance(config.get("forge"), dict):
        config.pop("headQueue", None)
        config.pop("computeQueue", None)
    return config, name, labels


@app.command("import", cls=WaitStatusCommand)
def import_env(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Seqera (tw) or batchforge export JSON")],
    name: Annotated[str | None, typer.Option("--name", "-n")] = None,
    credentials: Creds = None,
    workspace: WorkspaceOpt = None,
    wait: WaitStatus = None,
    description: Description = None,
    labels: Labels = None,
    overwrite: Overwrite = False,
    ignore_unsupported: Annotated[
        bool,
        typer.Option(
            "--ignore-unsupported",
            help="Drop the Seqera features batchforge does not support (Fusion, Wave, NVMe "
            "storage, Fargate head, DRAGEN...) and say which; without it an "
            "export that turns any on is refused.",
        ),
    ] = False,
) -> None:
    """Create a compute environment from an export file (``tw compute-envs export`` or
    ``batchforge compute-envs export``)."""
    from batchforge.services.compute_validation import (
        describe_unsupported,
        drop_unsupported,
        unsupported_fields,
    )

    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as error:
        raise fail(f"Cannot read {file}: {error}") from None
    config, exported_name, exported_labels = _export_parts(data)
    found = unsupported_fields(config)
    if found and not ignore_unsupported:
        raise fail(
            f"{file} turns on features batchforge does not support: "
            f"{describe_unsupported(found)}. Nothing was created. Re-run with "
            "--ignore-unsupported to import without them."
        )
    if found:
        config, dropped = drop_unsupported(config)
        before = {path: _value_at(data, path) for path in dropped}
        say("Dropped (not supported by batchforge):")
        for path in dropped:
            say(f"  {path} = {json.dumps(before[path])}")
    final_name = name or exported_name or file.stem
    st = in_workspace(ctx, workspace)
    if overwrite:
        with st.client() as client:
            existing = [e for e in client.list_compute_envs() if e.name == final_name]
            for env in existing:
                client.delete_compute_env(env.id)
    _add(
        st,
        final_name,
        credentials,
        config,
        labels or exported_labels or None,
        wait_status_value(wait),
        description,
    )


def _value_at(data: dict[str, Any], path: str) -> Any:
    section: Any = data.get("config") if isinstance(data.get("config"), dict) else data
    for key in path.split("."):
        section = section.get(key) if isinstance(section, dict) else None
    return section
