"""Compute environment use cases: create (validated, preflighted), list, describe, update,
delete (dispose), enable/disable, primary, validate.

Forge work (creating or disposing of AWS resources) is not done in the request: the
environment is stored with ``operation`` set and :mod:`batchforge.services.forge_runner`
carries it out in the background, resumably.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from batchforge.aws.session import AwsSession
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import AwsError, Conflict, InvalidInput, NotFound
from batchforge.forge.spec import DEFAULT_EBS_BLOCK_SIZE, ForgeSpec
from batchforge.schemas.compute_envs import (
    AwsBatchConfig,
    ComputeEnvIn,
    ComputeEnvOut,
    ListComputeEnvsEntry,
    UpdateComputeEnvRequest,
)
from batchforge.services import (
    broken_rows,
    compute_preflight,
    compute_validation,
    credentials,
    labels,
)
from batchforge.services.context import AppContext
from batchforge.services.forge_journal import DbJournal
from batchforge.services.ids import new_id

FORGE_CREATE, FORGE_DELETE, FORGE_ROLLBACK = "create", "delete", "rollback"
FORGE_STATUS = {FORGE_CREATE: "CREATING", FORGE_DELETE: "DELETING", FORGE_ROLLBACK: "ERRORED"}
"""The status an environment shows while each kind of Forge work is pending."""


def aws_session(ctx: AppContext, workspace_id: int, credentials_id: str, region: str) -> AwsSession:
    keys = credentials.stored_keys(ctx, workspace_id, credentials_id)
    return ctx.aws.session(keys.auth(), region)


class SessionCache:
    """One AWS session per (workspace, credentials, region), for the length of a piece of
    work (a tracker cycle, a cleanup): building boto3 clients costs more than most calls."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self._cache: dict[tuple[int, str | None, str], AwsSession] = {}

    def get(self, workspace_id: int, credentials_id: str | None, region: str) -> AwsSession:
        key = (workspace_id, credentials_id, region)
        if key not in self._cache:
            self._cache[key] = aws_session(self.ctx, workspace_id, credentials_id or "", region)
        return self._cache[key]


def _forge_spec(
    ce_id: str, config: AwsBatchConfig, ctx: AppContext, tags: dict[str, str]
) -> ForgeSpec:
    forge = config.forge
    assert forge is not None and forge.type is not None and forge.maxCpus is not None
    return ForgeSpec(
        ce_id=ce_id,
        region=config.region or "",
        work_dir=config.workDir or "",
        prefix=ctx.settings.forge_prefix,
        compute_type=forge.type,
        min_cpus=forge.minCpus or 0,
        max_cpus=forge.maxCpus,
        instance_types=tuple(forge.instanceTypes or ["optimal"]),
        alloc_strategy=forge.allocStrategy,
        bid_percentage=forge.bidPercentage,
        subnets=tuple(forge.subnets),
        security_groups=tuple(forge.securityGroups),
        vpc_id=forge.vpcId,
        ec2_key_pair=forge.ec2KeyPair,
        image_id=forge.imageId,
        ami_family=forge.amiFamily,
        gpu=forge.gpuEnabled,
        arm64=forge.arm64Enabled,
        ebs_boot_size=forge.ebsBootSize,
        ebs_auto_scale=bool(forge.ebsAutoScale),
        ebs_block_size=forge.ebsBlockSize or DEFAULT_EBS_BLOCK_SIZE,
        ecs_config=forge.ecsConfig,
        cli_path=config.cliPath or "/home/ec2-user/miniconda/bin/aws",
        efs_create=forge.efsCreate,
        efs_id=forge.efsId,
        efs_mount=forge.efsMount,
        fsx_size=forge.fsxSize,
        fsx_id=config.lustreId or forge.fsxName,
        fsx_mount=forge.fsxMount,
        allow_buckets=tuple(b.removeprefix("s3://").split("/")[0] for b in forge.allowBuckets),
        head_job_role=config.headJobRole,
        compute_job_role=config.computeJobRole,
        execution_role=config.executionRole,
        log_group=config.logGroup or "/aws/batch/job",
        secrets_kms_key=config.secretsKmsKeyId,
        tags=tags,
    )


def features_for(config: AwsBatchConfig) -> tuple[str, ...]:
    """The permission-catalog features an environment with ``config`` uses."""
    from batchforge.iam import resolve_features

    forge = config.forge
    extra = []
    if forge is not None and (forge.efsCreate or forge.efsId):
        extra.append("efs")
    if forge is not None and (forge.fsxSize or forge.fsxName or config.lustreId):
        extra.append("fsx")
    return resolve_features(extra, mode="forge" if forge is not None else "manual")


def check_permissions(
    ctx: AppContext, aws: AwsSession, config: AwsBatchConfig, tags: dict[str, str]
) -> list[str]:
    """The live permission check (see :mod:`batchforge.services.permissions`): missing
    required permissions block (400 naming the credentials); a policy that allows Batch jobs
    only on tagged resources blocks unless the labels carry those tags (400 naming
    ``labelIds``); the rest become warnings."""
    from batchforge.iam.scope import Scope
    from batchforge.services import permissions

    queues = tuple(q for q in (config.headQueue, config.computeQueue) if q and "/" not in q)
    scope = Scope(
        region=config.region,
        prefix=ctx.settings.forge_prefix,
        work_dir=config.workDir if (config.workDir or "").startswith("s3://") else None,
        queues=queues if config.forge is None else (),
    )
    report = permissions.check_session(aws, features_for(config), scope)
    if report.principal is not None and report.missing_required:
        raise InvalidInput(
            "computeEnv.credentialsId: the credentials lack permissions this compute "
            "environment needs: " + " ".join(report.blocking),
            field="computeEnv.credentialsId",
            hint="Add the statements named above to the IAM policy (`batchforge policy "
            "generate` writes one), or use other credentials.",
        )
    missing_tags = {k: v for k, v in report.required_tags.items() if tags.get(k) not in v}
    if missing_tags:
        wanted = ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(missing_tags.items()))
        raise InvalidInput(
            f"labelIds: the credentials' policy allows batch:SubmitJob only on resources tagged "
            f"{wanted}; without those resource labels no pipeline could run here.",
            field="labelIds",
            hint="Create the resource label(s) and pass their ids in labelIds "
            "(CLI: --labels KEY=VALUE).",
        )
    return list(report.warnings)


def spec_from_state(state: dict[str, Any]) -> ForgeSpec:
    data = dict(state["spec"])
    for key in ("instance_types", "subnets", "security_groups", "allow_buckets"):
        data[key] = tuple(data.get(key) or ())
    return ForgeSpec(**data)


def _load(session: Any, workspace_id: int, ce_id: str) -> models.ComputeEnv:
    row = session.get(models.ComputeEnv, ce_id)
    if row is None or row.workspace_id != workspace_id or row.deleted:
        raise NotFound(f"Compute environment '{ce_id}' not found in this workspace.")
    return row


def ensure_name_free(ctx: AppContext, workspace_id: int, name: str) -> None:
    """409 naming ``computeEnv.name`` when a live environment of the workspace has ``name``."""
    with ctx.db.transaction() as session:
        taken = session.scalars(
            select(models.ComputeEnv.id).where(
                models.ComputeEnv.workspace_id == workspace_id,
                models.ComputeEnv.name == name,
                models.ComputeEnv.deleted.is_(False),
            )
        ).first()
    if taken:
        raise Conflict(
            f"A compute environment named '{name}' already exists.", field="computeEnv.name"
        )


def create(ctx: AppContext, workspace_id: int, body: ComputeEnvIn, label_ids: list[int]) -> str:
    """Validate, preflight against AWS, store.  Forge environments start CREATING."""
    chosen: list[Any] = []

    def resolve_tags() -> dict[str, str]:
        chosen.extend(labels.resolve(ctx, workspace_id, label_ids))
        return labels.tags_of(chosen)

    checked = _check(ctx, workspace_id, body, resolve_tags)
    config, warnings = checked.config, checked.warnings
    ce_id = new_id()
    tags = labels.tags_of(chosen)
    state: dict[str, Any] = {"warnings": warnings, "labels": [label.id for label in chosen]}
    if config.forge is not None:
        state["spec"] = asdict(_forge_spec(ce_id, config, ctx, tags))
        state["subnet_zones"] = checked.subnet_zones
    if not config.computeQueue and config.forge is None:
        config = config.model_copy(update={"computeQueue": config.headQueue})
    now = utcnow()
    row = models.ComputeEnv(
        id=ce_id,
        workspace_id=workspace_id,
        name=body.name,
        description=body.description,
        platform=body.platform,
        credentials_id=body.credentialsId,
        region=config.region,
        config=config.model_dump(mode="json", exclude={"forgedResources"}),
        tags=tags,
        forge_state=state,
        status="CREATING" if config.forge else "AVAILABLE",
        message="; ".join(warnings) or None,
        dispose_on_deletion=config.forge.disposeOnDeletion if config.forge else False,
        operation=FORGE_CREATE if config.forge else None,
        created_at=now,
        updated_at=now,
    )
    try:
        with ctx.db.transaction() as session:
            session.add(row)
    except IntegrityError:
        raise Conflict(
            f"A compute environment named '{body.name}' already exists.", field="computeEnv.name"
        ) from None
    return ce_id


def _labels_of(ctx: AppContext, workspace_id: int, row: models.ComputeEnv) -> list[Any]:
    ids = list((row.forge_state or {}).get("labels", []))
    try:
        return labels.resolve(ctx, workspace_id, ids)
    except InvalidInput:  # a label was deleted since
        return []


def forged_resources(ctx: AppContext, ce_id: str) -> list[dict[str, Any]]:
    """Seqera's ``forgedResources``: every journal entry with its state."""
    entries = sorted(DbJournal(ctx, ce_id).load().values(), key=lambda e: (e.wave, e.key))
    return [
        {
            "type": e.kind,
            "name": e.name,
            "id": e.physical_id,
            "arn": e.arn,
            "status": e.status,
            **({"error": e.error} if e.error else {}),
        }
        for e in entries
    ]


def _to_out(ctx: AppContext, row: models.ComputeEnv) -> ComputeEnvOut:
    config = AwsBatchConfig.model_validate(row.config)
    if row.forge_state.get("spec"):
        forged = forged_resources(ctx, row.id)
        config = config.model_copy(update={"forgedResources": forged})
        by_key = {e["type"] + ":" + e["name"]: e for e in forged}
        spec = spec_from_state(row.forge_state)
        head = by_key.get("batch-job-queue:" + spec.name("head"))
        work = by_key.get("batch-job-queue:" + spec.name("work"))
        config = config.model_copy(
            update={
                "headQueue": spec.name("head") if head else None,
                "computeQueue": spec.name("work") if work else None,
            }
        )
    return ComputeEnvOut(
        id=row.id,
        name=row.name,
        description=row.description,
        platform=row.platform,
        credentialsId=row.credentials_id,
        workspaceId=row.workspace_id,
        config=config,
        status=row.status,
        message=row.message,
        primary=row.primary,  # type: ignore[arg-type]
        deleted=row.deleted,
        dateCreated=row.created_at,
        lastUpdated=row.updated_at,
        lastUsed=row.last_used,
        labels=_labels_of(ctx, row.workspace_id, row),
    )


def describe(ctx: AppContext, workspace_id: int, ce_id: str) -> ComputeEnvOut:
    """The environment; one whose row cannot be read or served is described as broken
    (status ERRORED, so nothing launches on it)."""
    query = select(models.ComputeEnv).where(
        models.ComputeEnv.id == ce_id,
        models.ComputeEnv.workspace_id == workspace_id,
        models.ComputeEnv.deleted.is_(False),
    )
    row = broken_rows.load(ctx, query, models.ComputeEnv.id)
    if row is None:
        raise NotFound(f"Compute environment '{ce_id}' not found in this workspace.")

    def broken(env_id: str, reason: str) -> ComputeEnvOut:
        return _broken_out(env_id, workspace_id, "ERRORED", _broken_message(env_id, reason))

    (shown,) = broken_rows.each([row], lambda row: _to_out(ctx, row), broken, "compute env")
    return shown


def _broken_out(
    env_id: str, workspace_id: int, status: str, message: str, deleted: bool = False
) -> ComputeEnvOut:
    """How an environment whose row cannot be read is described (see :mod:`broken_rows`)."""
    now = utcnow()
    return ComputeEnvOut(
        id=env_id,
        name=broken_rows.BROKEN_NAME,
        platform="aws-batch",
        workspaceId=workspace_id,
        config=AwsBatchConfig(),
        status=status,
        message=message,
        deleted=deleted,
        dateCreated=now,
        lastUpdated=now,
    )


def _broken_message(ce_id: str, reason: str) -> str:
    return broken_rows.message(
        "compute environment",
        ce_id,
        reason,
        f"batchforge compute-envs delete -i {ce_id}",
        f"DELETE /compute-envs/{ce_id}",
    )


def list_all(
    ctx: AppContext, workspace_id: int, status: str | None = None
) -> list[ListComputeEnvsEntry]:
    query = select(models.ComputeEnv).where(
        models.ComputeEnv.workspace_id == workspace_id, models.ComputeEnv.deleted.is_(False)
    )
    if status:
        query = query.where(models.ComputeEnv.status == status.upper())
    found = broken_rows.rows(ctx, query.order_by(models.ComputeEnv.name), models.ComputeEnv.id)

    def broken(ce_id: str, reason: str) -> ListComputeEnvsEntry:
        message = _broken_message(ce_id, reason)
        return ListComputeEnvsEntry(
            id=ce_id,
            name=broken_rows.BROKEN_NAME,
            platform="aws-batch",
            status="ERRORED",
            message=message,
        )

    def entry(row: models.ComputeEnv) -> ListComputeEnvsEntry:
        return ListComputeEnvsEntry(
            id=row.id,
            name=row.name,
            platform=row.platform,
            status=row.status,  # type: ignore[arg-type]
            message=row.message,
            credentialsId=row.credentials_id,
            description=row.description,
            region=row.region,
            workDir=row.config.get("workDir"),
            primary=row.primary,
            lastUsed=row.last_used,
        )

    return broken_rows.each(found, entry, broken, "compute env")


def update_env(
    ctx: AppContext, workspace_id: int, ce_id: str, body: UpdateComputeEnvRequest
) -> None:
    """Only name, description and credentials change (as Seqera)."""
    if body.name is not None and not compute_validation.NAME.match(body.name):
        raise InvalidInput("name: use 1-100 letters, digits, '-' or '_'.", field="name")
    if body.credentialsId:
        credentials.describe(ctx, workspace_id, body.credentialsId)
    current = describe(ctx, workspace_id, ce_id)
    if body.name and body.name != current.name:
        ensure_name_free(ctx, workspace_id, body.name)
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, ce_id)
        if body.name:
            row.name = body.name
        if body.description is not None:
            row.description = body.description
        if body.credentialsId:
            row.credentials_id = body.credentialsId
        row.updated_at = utcnow()


def delete(
    ctx: AppContext,
    workspace_id: int,
    ce_id: str,
    force: bool = False,
    preserve_resources: bool | None = None,
) -> str:
    """Start deleting; returns the new status (DELETING, or DELETED when nothing to dispose).

    ``force`` is needed while the environment is CREATING: the running create stops before
    its next step and whatever it made is disposed of (the latest intent wins; see
    :mod:`batchforge.services.forge_runner`).  ``preserve_resources`` overrides
    disposeOnDeletion.  Deleting again re-arms a disposal that gave up or is backing off.
    An environment whose row cannot be read is marked DELETED by columns alone; it cannot
    dispose of what it forged, so while its journal (a table of its own) still lists AWS
    resources the delete is a 409 naming them, unless ``preserve_resources`` says to keep
    them: a delete never orphans resources silently.
    """
    query = select(models.ComputeEnv).where(models.ComputeEnv.id == ce_id)
    if isinstance(broken_rows.load(ctx, query, models.ComputeEnv.id), broken_rows.BrokenRow):
        if preserve_resources is not True:
            _refuse_orphaning(ctx, ce_id)
        with ctx.db.transaction() as session:
            done = session.execute(
                update(models.ComputeEnv)
                .where(
                    models.ComputeEnv.id == ce_id,
                    models.ComputeEnv.workspace_id == workspace_id,
                    models.ComputeEnv.deleted.is_(False),
                )
                .values(
                    status="DELETED",
                    deleted=True,
                    operation=None,
                    primary=False,
                    updated_at=utcnow(),  # the tombstone's day starts now
                )
            ).rowcount  # type: ignore[attr-defined]
        if not done:
            raise NotFound(f"Compute environment '{ce_id}' not found in this workspace.")
        return "DELETED"
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, ce_id)
        if row.status == "CREATING" and not force:
            raise Conflict(
                "The compute environment is still being created; delete with "
                "force=true to stop and dispose of it.",
                field="force",
            )
        if row.status == "DELETING" and not force:
            return "DELETING"
        dispose = row.dispose_on_deletion if preserve_resources is None else not preserve_resources
        row.updated_at = utcnow()
        _rearm(row)
        if row.forge_state.get("spec") and dispose:
            row.status, row.operation, row.message = "DELETING", FORGE_DELETE, None
            return "DELETING"
        row.status, row.deleted, row.operation, row.primary = "DELETED", True, None, False
        return "DELETED"


def _refuse_orphaning(ctx: AppContext, ce_id: str) -> None:
    """409 when the journal of an unreadable environment lists AWS resources not deleted."""
    left = [e for e in forged_resources(ctx, ce_id) if e["status"] != "DELETED"]
    if not left:
        return
    shown = ", ".join(f"{e['type']} {e['id'] or e['name']}" for e in left[:10])
    more = f" and {len(left) - 10} more" if len(left) > 10 else ""
    raise Conflict(
        f"Compute environment '{ce_id}' cannot be read, so it cannot dispose of the AWS "
        f"resources it forged: {shown}{more}. Deleting it now would leave them in AWS.",
        field="preserveResources",
        hint="Repair the row (or restore the database), then delete it again; or delete with "
        "preserveResources=true to keep those resources and remove them in AWS yourself.",
    )


def _rearm(row: models.ComputeEnv) -> None:
    row.forge_attempts, row.forge_next_at, row.forge_failed = 0, None, None


@dataclass(frozen=True)
class RetryInfo:
    """Failed Forge work of an environment: ``operation`` ("create", "delete", "rollback"),
    how many attempts failed, when the next starts (None: it gave up, waiting for a retry)."""

    operation: str
    attempts: int
    next_at: datetime | None
    gave_up: bool


def retry_info(ctx: AppContext, workspace_id: int, ce_id: str) -> RetryInfo | None:
    """What :func:`retry` would retry, or None when nothing failed."""
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, ce_id)
        operation = row.forge_failed or (row.operation if row.forge_attempts else None)
        if operation is None:
            return None
        return RetryInfo(
            operation, row.forge_attempts, row.forge_next_at, row.forge_failed is not None
        )


def retry(ctx: AppContext, workspace_id: int, ce_id: str) -> str:
    """Try the environment's Forge work again now: work that gave up after too many failed
    attempts (ERRORED, see :mod:`batchforge.services.forge_runner`) is re-armed, and work
    waiting out its back-off starts at once.  Returns the new status; 409 when there is
    nothing to retry."""
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, ce_id)
        operation = row.forge_failed or (row.operation if row.forge_attempts else None)
        if operation is None:
            raise Conflict(
                f"Compute environment '{ce_id}' has no failed Forge work to retry "
                f"(it is {row.status}).",
                hint="Retry applies to a creation, deletion or rollback that failed.",
            )
        _rearm(row)
        row.operation, row.status = operation, FORGE_STATUS[operation]
        row.message = f"Retrying ({operation}) as asked."
        row.updated_at = utcnow()
        return row.status


def set_status(ctx: AppContext, workspace_id: int, ce_id: str, status: str) -> None:
    """Enable or disable in batchforge: a DISABLED environment takes no launches."""
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, ce_id)
        allowed = {"DISABLED": ("AVAILABLE",), "AVAILABLE": ("DISABLED",)}[status]
        if row.status not in allowed and row.status != status:
            raise Conflict(f"Cannot change a {row.status} compute environment to {status}.")
        row.status, row.updated_at = status, utcnow()


def make_primary(ctx: AppContext, workspace_id: int, ce_id: str) -> None:
    with ctx.db.transaction() as session:
        _load(session, workspace_id, ce_id)
        session.execute(
            update(models.ComputeEnv)
            .where(models.ComputeEnv.workspace_id == workspace_id)
            .values(primary=models.ComputeEnv.id == ce_id)
        )


def primary_of(ctx: AppContext, workspace_id: int) -> ComputeEnvOut | None:
    with ctx.db.transaction() as session:
        ce_id = session.scalars(
            select(models.ComputeEnv.id).where(
                models.ComputeEnv.workspace_id == workspace_id,
                models.ComputeEnv.primary.is_(True),
                models.ComputeEnv.deleted.is_(False),
            )
        ).first()
    return describe(ctx, workspace_id, ce_id) if ce_id else None


@dataclass
class Validation:
    """The outcome of a validation (Seqera's ValidateComputeEnvResponse) and the environment
    after it."""

    status: str
    transient: bool
    message: str | None
    env: ComputeEnvOut


def validate_env(ctx: AppContext, workspace_id: int, ce_id: str, force: bool = False) -> Validation:
    """Check the environment's queues in AWS now: AVAILABLE, or INVALID with the reason.

    When AWS cannot be reached (network, throttling, 5xx) the stored status is left as it
    was and the outcome is transient.  ``force`` marks an INVALID environment AVAILABLE
    without checking (Seqera: a 409 for any other status)."""
    env = describe(ctx, workspace_id, ce_id)
    if env.status in ("CREATING", "DELETING", "DELETED"):
        raise Conflict(f"The compute environment is {env.status}.")
    if force and env.status != "INVALID":
        raise Conflict(
            f"force=true marks an INVALID compute environment AVAILABLE; this one is {env.status}.",
            field="force",
        )
    transient = False
    if force:
        status, message = "AVAILABLE", None
    else:
        aws = aws_session(ctx, workspace_id, env.credentialsId or "", env.config.region or "")
        try:
            compute_preflight.check_manual_queues(aws, env.config)
            status, message = ("DISABLED" if env.status == "DISABLED" else "AVAILABLE"), None
        except AwsError as problem:
            if not problem.transient:
                raise
            transient, status, message = True, env.status, problem.message
        except InvalidInput as problem:
            status, message = "INVALID", problem.message
    if not transient:
        with ctx.db.transaction() as session:
            row = _load(session, workspace_id, ce_id)
            row.status, row.message, row.updated_at = status, message, utcnow()
    return Validation(status, transient, message, describe(ctx, workspace_id, ce_id))


# How long a deleted environment stays readable by id (status DELETED, ``deleted: true``),
# so that a poller such as ``tw compute-envs delete --wait`` sees DELETED, not a 404.
TOMBSTONE_SECONDS = 24 * 3600


def describe_deleted(ctx: AppContext, workspace_id: int, ce_id: str) -> ComputeEnvOut:
    """A recently deleted environment, read by id: status DELETED, ``deleted: true``
    (never in lists).  :class:`NotFound` when it never existed here or was deleted more
    than :data:`TOMBSTONE_SECONDS` ago."""
    since = utcnow() - timedelta(seconds=TOMBSTONE_SECONDS)
    query = select(models.ComputeEnv).where(
        models.ComputeEnv.id == ce_id,
        models.ComputeEnv.workspace_id == workspace_id,
        models.ComputeEnv.deleted.is_(True),
        models.ComputeEnv.updated_at >= since,
    )
    row = broken_rows.load(ctx, query, models.ComputeEnv.id)
    if row is None:
        raise NotFound(f"Compute environment '{ce_id}' not found in this workspace.")

    def whole(row: models.ComputeEnv) -> ComputeEnvOut:
        return ComputeEnvOut(
            id=row.id,
            name=row.name,
            description=row.description,
            platform=row.platform,
            credentialsId=row.credentials_id,
            workspaceId=row.workspace_id,
            config=AwsBatchConfig.model_validate(row.config or {}),
            status="DELETED",
            message=row.message,
            deleted=True,
            dateCreated=row.created_at,
            lastUpdated=row.updated_at,
            lastUsed=row.last_used,
        )

    def broken(env_id: str, reason: str) -> ComputeEnvOut:
        message = f"Deleted; its row could not be read ({reason})."
        return _broken_out(env_id, workspace_id, "DELETED", message, deleted=True)

    (shown,) = broken_rows.each([row], whole, broken, "compute env")
    return shown


def in_use_by(ctx: AppContext, credentials_id: str) -> list[dict[str, str]]:
    """Live environments using these credentials (Seqera's delete-conflict entries)."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(models.ComputeEnv.id, models.ComputeEnv.name).where(
                models.ComputeEnv.credentials_id == credentials_id,
                models.ComputeEnv.deleted.is_(False),
            )
        ).all()
    return [
        {"id": ce_id, "name": name, "type": "compute-env", "url": f"/compute-envs/{ce_id}"}
        for ce_id, name in rows
    ]


@dataclass(frozen=True)
class CheckedConfig:
    """What :func:`check_config` found: the configuration as :func:`create` would store it
    (the network filled in as the console does), the warnings it would record, and the
    subnets' availability zones."""

    config: AwsBatchConfig
    warnings: list[str]
    subnet_zones: dict[str, str] = field(default_factory=dict)


def _check(
    ctx: AppContext, workspace_id: int, body: ComputeEnvIn, tags: Callable[[], dict[str, str]]
) -> CheckedConfig:
    """The checks before storing, in order: fields, credentials (404 when unknown), the
    resource labels' ``tags`` (resolved after the credentials), name, AWS preflight, live
    permission check."""
    compute_validation.validate_common(body)
    config, mounts = compute_validation.default_mounts(body.config)
    if config.forge is None:
        compute_validation.validate_manual(config)
    else:
        compute_validation.validate_forge(config, config.forge)
    credentials.describe(ctx, workspace_id, body.credentialsId or "")
    resource_tags = tags()
    ensure_name_free(ctx, workspace_id, body.name)
    aws = aws_session(ctx, workspace_id, body.credentialsId or "", config.region or "")
    checked = compute_preflight.run_preflight(aws, config)
    if checked.forge is not None:
        config = config.model_copy(update={"forge": checked.forge})
    notes = check_permissions(ctx, aws, config, resource_tags)
    warnings = checked.warnings + notes + compute_validation.warnings_for(config, config.forge)
    return CheckedConfig(config, mounts + warnings, checked.subnet_zones)


def check_config(
    ctx: AppContext, workspace_id: int, body: ComputeEnvIn, tags: dict[str, str]
) -> CheckedConfig:
    """Every check :func:`create` runs before storing -- fields, credentials, name, the AWS
    preflight and the live permission check (with the resource labels' ``tags``) -- without
    storing or creating anything.  The web UI shows this before the user creates."""
    return _check(ctx, workspace_id, body, lambda: tags)
