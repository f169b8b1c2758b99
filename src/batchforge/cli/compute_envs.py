"""``batchforge compute-envs``: Forge and manual AWS Batch compute environments (after tw)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli.common import emit_json, emit_table, fail, say, state

if TYPE_CHECKING:
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
Creds = Annotated[str, typer.Option("--credentials", "-c", help="Credentials name or id.")]
Region = Annotated[str, typer.Option("--region", "-r", help="AWS region.")]
WorkDir = Annotated[
    str, typer.Option("--work-dir", help="s3://bucket/path (Nextflow on AWS Batch needs S3).")
]
Wait = Annotated[
    bool,
    typer.Option(
        "--wait", help="Wait until AVAILABLE (or gone) and show each resource as it changes."
    ),
]
Labels = Annotated[
    list[str] | None,
    typer.Option("--labels", help="Resource label NAME=VALUE (becomes an AWS tag)."),
]
Target = Annotated[str, typer.Argument(help="Compute environment name or id.")]


def _csv(values: list[str] | None) -> list[str]:
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def _label_ids(client: BatchforgeClient, labels: list[str] | None) -> list[int]:
    ids = []
    for item in _csv(labels):
        name, sep, value = item.partition("=")
        if not sep:
            raise fail(f"--labels takes NAME=VALUE, got '{item}'.")
        ids.append(client.ensure_resource_label(name, value))
    return ids


@aws_app.command("forge")
def add_forge(
    ctx: typer.Context,
    name: Name,
    credentials: Creds,
    region: Region,
    work_dir: WorkDir,
    provisioning_model: Annotated[str, typer.Option(help="SPOT or EC2")] = "SPOT",
    max_cpus: Annotated[int, typer.Option(help="Maximum CPUs")] = 256,
    min_cpus: Annotated[int, typer.Option(help="Minimum CPUs")] = 0,
    instance_types: Annotated[list[str] | None, typer.Option(help="Comma-separated")] = None,
    alloc_strategy: Annotated[str | None, typer.Option()] = None,
    bid_percentage: Annotated[int | None, typer.Option()] = None,
    vpc_id: Annotated[str | None, typer.Option()] = None,
    subnets: Annotated[list[str] | None, typer.Option(help="Comma-separated")] = None,
    security_groups: Annotated[list[str] | None, typer.Option(help="Comma-separated")] = None,
    key_pair: Annotated[str | None, typer.Option()] = None,
    image_id: Annotated[
        str | None, typer.Option(help="Custom AMI (default: ECS-optimized)")
    ] = None,
    ami_family: Annotated[str, typer.Option(help="al2023 or al2")] = "al2023",
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
    boot_disk_size: Annotated[int | None, typer.Option(help="GiB")] = None,
    efs_create: Annotated[bool, typer.Option("--efs-create")] = False,
    efs_id: Annotated[str | None, typer.Option()] = None,
    efs_mount: Annotated[str | None, typer.Option()] = None,
    fsx_size: Annotated[int | None, typer.Option(help="GiB (1200 or multiples of 2400)")] = None,
    fsx_mount: Annotated[str | None, typer.Option()] = None,
    allow_buckets: Annotated[list[str] | None, typer.Option(help="Comma-separated")] = None,
    head_job_role: Annotated[str | None, typer.Option()] = None,
    cli_path: Annotated[str | None, typer.Option()] = None,
    labels: Labels = None,
    no_dispose: Annotated[
        bool, typer.Option("--no-dispose", help="Keep AWS resources when deleted.")
    ] = False,
    wait: Wait = False,
) -> None:
    """Create the AWS Batch infrastructure (roles, launch template, compute environments,
    queues, optional EFS/FSx) and register it."""
    forge: dict[str, Any] = {
        "type": provisioning_model.upper(),
        "minCpus": min_cpus,
        "maxCpus": max_cpus,
        "instanceTypes": _csv(instance_types) or ["optimal"],
        "allocStrategy": alloc_strategy,
        "bidPercentage": bid_percentage,
        "vpcId": vpc_id,
        "subnets": _csv(subnets),
        "securityGroups": _csv(security_groups),
        "ec2KeyPair": key_pair,
        "imageId": image_id,
        "amiFamily": ami_family,
        "gpuEnabled": gpu,
        "arm64Enabled": arm64,
        "ebsBootSize": boot_disk_size,
        "efsCreate": efs_create,
        "efsId": efs_id,
        "efsMount": efs_mount,
        "fsxSize": fsx_size,
        "fsxMount": fsx_mount,
        "allowBuckets": _csv(allow_buckets),
        "disposeOnDeletion": not no_dispose,
    }
    config = {
        "region": region,
        "workDir": work_dir,
        "headJobRole": head_job_role,
        "cliPath": cli_path,
        "forge": {k: v for k, v in forge.items() if v is not None},
    }
    _add(ctx, name, credentials, config, labels, wait)


@aws_app.command("manual")
def add_manual(
    ctx: typer.Context,
    name: Name,
    credentials: Creds,
    region: Region,
    work_dir: WorkDir,
    head_queue: Annotated[str, typer.Option(help="Job queue for the Nextflow head job")],
    compute_queue: Annotated[str | None, typer.Option(help="Job queue for tasks")] = None,
    head_job_role: Annotated[str | None, typer.Option()] = None,
    compute_job_role: Annotated[str | None, typer.Option()] = None,
    execution_role: Annotated[str | None, typer.Option()] = None,
    cli_path: Annotated[str | None, typer.Option()] = None,
    labels: Labels = None,
) -> None:
    """Register existing AWS Batch queues (nothing is created or deleted in AWS)."""
    config = {
        "region": region,
        "workDir": work_dir,
        "headQueue": head_queue,
        "computeQueue": compute_queue,
        "headJobRole": head_job_role,
        "computeJobRole": compute_job_role,
        "executionRole": execution_role,
        "cliPath": cli_path,
    }
    _add(
        ctx,
        name,
        credentials,
        {k: v for k, v in config.items() if v is not None},
        labels,
        wait=False,
    )


def _add(
    ctx: typer.Context,
    name: str,
    credentials: str,
    config: dict[str, Any],
    labels: list[str] | None,
    wait: bool,
) -> None:
    st = state(ctx)
    with st.client() as client:
        creds = client.find_credentials(credentials)
        ce_id = client.create_compute_env(
            {
                "name": name,
                "platform": "aws-batch",
                "credentialsId": creds.id,
                "config": {k: v for k, v in config.items() if v is not None},
            },
            _label_ids(client, labels),
        )
        if st.structured and not wait:
            emit_json({"computeEnvId": ce_id})
            return
        say(f"Compute environment '{name}' created (id {ce_id}).")
        if wait:
            _follow(client, ce_id, until={"AVAILABLE", "ERRORED", "INVALID"})


def _follow(
    client: BatchforgeClient,
    ce_id: str,
    until: set[str],
    timeout: float = 3600,
) -> str:
    """Print each forged resource as its state changes, until the status is in ``until``."""
    from batchforge.client import ApiError

    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    status = "?"
    while time.monotonic() < deadline:
        try:
            env = client.describe_compute_env(ce_id)
        except ApiError as error:
            if error.status == 404 and "DELETED" in until:
                say("  status DELETED: every resource disposed of")
                return "DELETED"
            raise
        for resource in env.config.forgedResources:
            key = f"{resource['type']} {resource['name']}"
            if seen.get(key) != resource["status"]:
                seen[key] = resource["status"]
                say(f"  {resource['status']:<9} {key}")
        if env.status != status:
            status = env.status
            say(f"  status {status}" + (f": {env.message}" if env.message else ""))
        if status in until:
            if status in ("ERRORED", "INVALID"):
                raise typer.Exit(1)
            return status
        time.sleep(1.0)
    raise fail(f"Gave up waiting after {timeout:.0f} s (status {status}).")


@app.command("list")
def list_envs(
    ctx: typer.Context, status: Annotated[str | None, typer.Option(help="Filter by status")] = None
) -> None:
    """List compute environments."""
    st = state(ctx)
    with st.client() as client:
        items = client.list_compute_envs(status)
    if st.structured:
        emit_json({"computeEnvs": [item.model_dump(mode="json") for item in items]})
        return
    emit_table(
        "Compute environments",
        ["ID", "Name", "Status", "Region", "Work dir", "Primary"],
        [[i.id, i.name, i.status, i.region, i.workDir, "yes" if i.primary else ""] for i in items],
    )


@app.command("view")
def view(ctx: typer.Context, target: Target) -> None:
    """Show a compute environment with the resources Forge made."""
    st = state(ctx)
    with st.client() as client:
        env = client.describe_compute_env(client.find_compute_env(target).id)
    if st.structured:
        emit_json({"computeEnv": env.model_dump(mode="json")})
        return
    say(f"{env.name} ({env.id}): {env.status}" + (f" - {env.message}" if env.message else ""))
    say(f"  region {env.config.region}, work dir {env.config.workDir}")
    say(f"  head queue {env.config.headQueue}, compute queue {env.config.computeQueue}")
    if env.config.forgedResources:
        emit_table(
            "Forged resources",
            ["Type", "Name", "Id/ARN", "Status"],
            [
                [r["type"], r["name"], r.get("arn") or r.get("id"), r["status"]]
                for r in env.config.forgedResources
            ],
        )


@app.command("delete")
def delete(
    ctx: typer.Context,
    target: Target,
    wait: Wait = False,
    force: Annotated[bool, typer.Option("--force", help="Also while CREATING")] = False,
    preserve_resources: Annotated[
        bool, typer.Option("--preserve-resources", help="Keep the AWS resources")
    ] = False,
) -> None:
    """Delete a compute environment, disposing of what Forge created (unless preserved)."""
    with state(ctx).client() as client:
        env = client.find_compute_env(target)
        client.delete_compute_env(env.id, force, True if preserve_resources else None)
        say(f"Deleting compute environment '{env.name}'.")
        if wait:
            _follow(client, env.id, until={"DELETED", "ERRORED"})


@app.command("retry")
def retry(ctx: typer.Context, target: Target, wait: Wait = False) -> None:
    """Try a failed creation, deletion or rollback again now (after it gave up, or while it
    waits to retry)."""
    with state(ctx).client() as client:
        env = client.find_compute_env(target)
        client.retry_compute_env(env.id)
        fresh = client.describe_compute_env(env.id)
        say(f"Retrying compute environment '{env.name}' ({fresh.status}).")
        if wait and fresh.status == "CREATING":
            _follow(client, env.id, until={"AVAILABLE", "ERRORED", "INVALID"})
        elif wait and fresh.status == "DELETING":
            _follow(client, env.id, until={"DELETED", "ERRORED"})
        elif wait:  # a rollback: the environment stays ERRORED, its message tells the end
            say("The rollback runs in the background; `compute-envs view` shows its progress.")


@app.command("validate")
def validate(ctx: typer.Context, target: Target) -> None:
    """Check the environment's queues in AWS now (exit 1 when INVALID)."""
    with state(ctx).client() as client:
        env = client.validate_compute_env(client.find_compute_env(target).id)
    say(f"{env.name}: {env.status}" + (f" - {env.message}" if env.message else ""))
    if env.status == "INVALID":
        raise typer.Exit(1)


@primary_app.command("get")
def primary_get(ctx: typer.Context) -> None:
    with state(ctx).client() as client:
        primary = [e for e in client.list_compute_envs() if e.primary]
    say(primary[0].name if primary else "No primary compute environment.")


@primary_app.command("set")
def primary_set(ctx: typer.Context, target: Target) -> None:
    with state(ctx).client() as client:
        env = client.find_compute_env(target)
        client.set_primary_compute_env(env.id)
    say(f"'{env.name}' is now the primary compute environment.")


@app.command("export")
def export(
    ctx: typer.Context,
    target: Target,
    file: Annotated[Path | None, typer.Argument(help="Output file (default stdout)")] = None,
) -> None:
    """Export the configuration as Seqera's export JSON (no ids, no forged resources)."""
    with state(ctx).client() as client:
        env = client.describe_compute_env(client.find_compute_env(target).id)
    config = env.config.model_dump(mode="json", exclude_none=True, exclude={"forgedResources"})
    if config.get("forge"):
        config.pop("headQueue", None)
        config.pop("computeQueue", None)
    text = json.dumps(
        {
            "discriminator": "aws-batch",
            "name": env.name,
            "description": env.description,
            "platform": env.platform,
            "config": config,
        },
        indent=2,
    )
    if file:
        file.write_text(text + "\n")
        say(f"Exported to {file}.")
    else:
        typer.echo(text)


# Output-only fields of an export: the forged resources and queues of the environment it came
# from (a forged environment gets its own).
EXPORT_ONLY = ("forgedResources", "deletedResources")


def _export_parts(data: Any) -> tuple[dict[str, Any], str | None, list[str]]:
    """(config, name, resource labels as NAME=VALUE) of an export: ``tw compute-envs export``
    writes the config object itself with a ``labels`` list; ``batchforge compute-envs export``
    nests it under ``config`` beside ``name``."""
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


@app.command("import")
def import_env(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Seqera (tw) or batchforge export JSON")],
    name: Annotated[str | None, typer.Option("--name", "-n")] = None,
    credentials: Annotated[str | None, typer.Option("--credentials", "-c")] = None,
    ignore_unsupported: Annotated[
        bool,
        typer.Option(
            "--ignore-unsupported",
            help="Drop the Seqera features batchforge does not support (Fusion, Wave, NVMe "
            "storage, Fargate head, EBS auto-scale, DRAGEN...) and say which; without it an "
            "export that turns any on is refused.",
        ),
    ] = False,
    wait: Wait = False,
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
    config, exported_name, labels = _export_parts(data)
    if not credentials:
        raise fail("--credentials is required (exports carry no credentials).")
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
    _add(ctx, name or exported_name or file.stem, credentials, config, labels or None, wait)


def _value_at(data: dict[str, Any], path: str) -> Any:
    section: Any = data.get("config") if isinstance(data.get("config"), dict) else data
    for key in path.split("."):
        section = section.get(key) if isinstance(section, dict) else None
    return section
