"""Pipeline use cases: named launch configurations, and launching them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import Conflict, InvalidInput, NotFound
from batchforge.schemas.pipelines import (
    ComputeEnvDbDto,
    CreatePipelineRequest,
    LaunchDbDto,
    PipelineDbDto,
    UpdatePipelineRequest,
)
from batchforge.schemas.workflows import WorkflowLaunchRequest
from batchforge.services import (
    broken_rows,
    compute_envs,
    labels,
    launches,
    pipeline_schemas,
    pipeline_versions,
)
from batchforge.services.compute_validation import NAME
from batchforge.services.context import AppContext


def _load(session: Any, workspace_id: int, pipeline_id: int) -> models.Pipeline:
    row = session.get(models.Pipeline, pipeline_id)
    if row is None or row.workspace_id != workspace_id or row.deleted:
        raise NotFound(f"Pipeline {pipeline_id} not found in this workspace.")
    return row


def _validate(ctx: AppContext, workspace_id: int, name: str | None, launch: Any) -> None:
    if name is not None and not NAME.match(name):
        raise InvalidInput("name: use 1-100 letters, digits, '-' or '_'.", field="name")
    if launch is not None:
        if not launch.pipeline:
            raise InvalidInput(
                "launch.pipeline: a repository URL is required.", field="launch.pipeline"
            )
        if launch.computeEnvId:
            compute_envs.describe(ctx, workspace_id, launch.computeEnvId)
        from batchforge.launch.params import parse_params

        params = parse_params(launch.paramsText, "launch.paramsText")
        pipeline_schemas.check_launch(ctx, workspace_id, launch.pipelineSchemaId, params)


def _to_dto(ctx: AppContext, row: models.Pipeline) -> PipelineDbDto:
    env = None
    ce_id = (row.launch or {}).get("computeEnvId")
    if ce_id:
        try:
            out = compute_envs.describe(ctx, row.workspace_id, ce_id)
            env = ComputeEnvDbDto(
                id=out.id, name=out.name, platform=out.platform, region=out.config.region
            )
        except NotFound:
            env = None
    try:
        chosen = labels.resolve(ctx, row.workspace_id, list(row.label_ids or []))
    except InvalidInput:
        chosen = []
    with ctx.db.transaction() as session:
        stored = session.get(models.Pipeline, row.id)
        version = pipeline_versions.info(pipeline_versions.default_of(session, stored or row))
    return PipelineDbDto(
        version=version,
        pipelineId=row.id,
        name=row.name,
        description=row.description,
        icon=row.icon,
        repository=row.repository,
        userName=row.user_name,
        workspaceId=row.workspace_id,
        lastUpdated=row.updated_at,
        labels=chosen,
        computeEnv=env,
    )


def create(
    ctx: AppContext, workspace_id: int, body: CreatePipelineRequest, user: str | None = None
) -> PipelineDbDto:
    """A new pipeline with its first version, the default: named ``body.version.name``
    when given (Seqera's version name pattern, else a 400 naming ``version.name``), else
    ``<name>-1``."""
    _validate(ctx, workspace_id, body.name, body.launch)
    version_name = body.version.name if body.version is not None else None
    if version_name is not None:
        pipeline_versions.check_format(version_name, field="version.name")
    labels.resolve(ctx, workspace_id, body.labelIds)
    now = utcnow()
    row = models.Pipeline(
        workspace_id=workspace_id,
        name=body.name,
        description=body.description,
        icon=body.icon,
        repository=body.launch.pipeline or "",
        launch=body.launch.model_dump(mode="json", exclude_none=True),
        label_ids=body.labelIds,
        user_name=user,
        created_at=now,
        updated_at=now,
    )
    try:
        with ctx.db.transaction() as session:
            session.add(row)
            session.flush()
            first = version_name or pipeline_versions.next_name(session, row)
            pipeline_versions.add(session, row, dict(row.launch), first, True, user)
    except IntegrityError:
        raise Conflict(f"A pipeline named '{row.name}' already exists.", field="name") from None
    return _to_dto(ctx, row)


def list_all(
    ctx: AppContext,
    workspace_id: int,
    search: str | None,
    max_results: int,
    offset: int,
    workspace_ids: Sequence[int] | None = None,
) -> tuple[list[PipelineDbDto], int]:
    """The pipelines of ``workspace_ids`` (default: ``workspace_id`` alone — Seqera's
    ``visibility=private``; the router adds the shared workspaces ``authz`` allows), by name,
    each saying its workspace, organization and visibility."""
    wanted = [workspace_id] if workspace_ids is None else list(workspace_ids)
    conditions = [models.Pipeline.workspace_id.in_(wanted), models.Pipeline.deleted.is_(False)]
    exact = _quoted(search)
    if exact is not None:
        conditions.append(models.Pipeline.name == exact)
    elif search:
        conditions.append(func.lower(models.Pipeline.name).like(f"%{search.lower()}%"))
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(models.Pipeline).where(*conditions))
    query = (
        select(models.Pipeline)
        .where(*conditions)
        .order_by(models.Pipeline.name)
        .offset(offset)
        .limit(max(1, min(max_results, 100)))
    )
    found = broken_rows.rows(ctx, query, models.Pipeline.id)
    shown = broken_rows.each(
        found, lambda row: _to_dto(ctx, row), _broken(workspace_id), "pipeline"
    )
    return placed(ctx, shown), int(total or 0)


def placed(ctx: AppContext, items: list[PipelineDbDto]) -> list[PipelineDbDto]:
    """``items`` with Seqera's ``visibility`` (their workspace's), ``orgId``, ``orgName`` and
    ``workspaceName`` set."""
    ids = {item.workspaceId for item in items}
    if not ids:
        return items
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(
                models.Workspace.id,
                models.Workspace.name,
                models.Workspace.visibility,
                models.Organization.id,
                models.Organization.name,
            )
            .join(models.Organization, models.Organization.id == models.Workspace.org_id)
            .where(models.Workspace.id.in_(ids))
        ).all()
    where = {
        row[0]: {"workspaceName": row[1], "visibility": row[2], "orgId": row[3], "orgName": row[4]}
        for row in rows
    }
    return [item.model_copy(update=where.get(item.workspaceId, {})) for item in items]


def _quoted(search: str | None) -> str | None:
    """The name of a search in double quotes (``tw``'s ``search="NAME"``: an exact match, as
    on Seqera; ``\"`` inside stands for a quote); None for any other search."""
    if search is None or len(search) < 2 or not (search.startswith('"') and search.endswith('"')):
        return None
    return search[1:-1].replace('\\"', '"')


def _broken(workspace_id: int) -> Any:
    """How a pipeline whose row cannot be read is shown (see :mod:`broken_rows`)."""

    def dto(pipeline_id: int, reason: str) -> PipelineDbDto:
        return PipelineDbDto(
            pipelineId=pipeline_id,
            name=broken_rows.BROKEN_NAME,
            description=broken_rows.message(
                "pipeline",
                pipeline_id,
                reason,
                f"batchforge pipelines delete -i {pipeline_id}",
                f"DELETE /pipelines/{pipeline_id}",
            ),
            repository="",
            workspaceId=workspace_id,
            lastUpdated=utcnow(),
        )

    return dto


def describe(ctx: AppContext, workspace_id: int, pipeline_id: int) -> PipelineDbDto:
    """The pipeline; one whose row cannot be read or served is described as broken."""
    query = select(models.Pipeline).where(
        models.Pipeline.id == pipeline_id,
        models.Pipeline.workspace_id == workspace_id,
        models.Pipeline.deleted.is_(False),
    )
    row = broken_rows.load(ctx, query, models.Pipeline.id)
    if row is None:
        raise NotFound(f"Pipeline {pipeline_id} not found in this workspace.")
    (shown,) = broken_rows.each([row], lambda row: _to_dto(ctx, row), _broken(workspace_id))
    return placed(ctx, [shown])[0]


LENT_OUT = ("computeEnvId", "workDir", "labelIds")
"""What a shared pipeline's launch loses when read or launched from another workspace: its
compute environment, the work directory that goes with it, and its labels (they are the
shared workspace's).  The caller's workspace gives them (its primary or chosen environment),
as ``tw launch`` does when the launch has none.  (Seqera lends the shared workspace's compute
environment too; batchforge runs a workspace's launches with its own credentials only.)"""


def describe_launch(
    ctx: AppContext,
    workspace_id: int,
    pipeline_id: int,
    version_id: str | None = None,
    lent: bool = False,
) -> LaunchDbDto:
    """The launch of the pipeline's default version, or of version ``version_id``; ``id`` is
    the version's id, ``computeEnv`` the environment object (Seqera's LaunchDbDto).
    ``lent``: read from another workspace (a shared pipeline), without :data:`LENT_OUT`."""
    query = select(models.Pipeline).where(
        models.Pipeline.id == pipeline_id,
        models.Pipeline.workspace_id == workspace_id,
        models.Pipeline.deleted.is_(False),
    )
    how = f"batchforge pipelines delete -i {pipeline_id}|DELETE /pipelines/{pipeline_id}"
    row = broken_rows.readable(ctx, query, models.Pipeline.id, "pipeline", how)
    if row is None:
        raise NotFound(f"Pipeline {pipeline_id} not found in this workspace.")
    with ctx.db.transaction() as session:
        pipeline = _load(session, workspace_id, pipeline_id)
        version = pipeline_versions.chosen(session, pipeline, version_id)
        launch, version_key = dict(version.launch or {}), version.id
        created, updated = version.created_at, version.updated_at
    launch.pop("id", None)
    if lent:
        for key in LENT_OUT:
            launch.pop(key, None)
    return LaunchDbDto(
        **launch,
        computeEnv=launches.compute_env_ref(ctx, workspace_id, launch.get("computeEnvId")),
        id=version_key,
        workspaceId=workspace_id,
        dateCreated=created,
        lastUpdated=updated,
    )


def describe_schema(
    ctx: AppContext, workspace_id: int, pipeline_id: int, version_id: str | None = None
) -> tuple[str, str | None] | None:
    """(schema content, ``paramsText``) of the default version's launch, or of version
    ``version_id``'s; None when that launch names no schema of the workspace."""
    with ctx.db.transaction() as session:
        pipeline = _load(session, workspace_id, pipeline_id)
        version = pipeline_versions.chosen(session, pipeline, version_id)
        launch = dict(version.launch or {})
    schema_id = launch.get("pipelineSchemaId")
    if not isinstance(schema_id, int) or isinstance(schema_id, bool):
        return None
    content = pipeline_schemas.find(ctx, workspace_id, schema_id)
    if content is None:
        return None
    params = launch.get("paramsText")
    return content, params if isinstance(params, str) else None


def update_pipeline(
    ctx: AppContext,
    workspace_id: int,
    pipeline_id: int,
    body: UpdatePipelineRequest,
    version_id: str | None = None,
    user: str | None = None,
) -> PipelineDbDto:
    """Update the pipeline and one version of it (the default unless ``version_id``), as
    :mod:`batchforge.services.pipeline_versions` describes; the answer carries the version
    that holds the launch now."""
    _validate(ctx, workspace_id, body.name, body.launch)
    if body.labelIds:
        labels.resolve(ctx, workspace_id, body.labelIds)
    try:
        with ctx.db.transaction() as session:
            row = _load(session, workspace_id, pipeline_id)
            if version_id:
                target = pipeline_versions.find(session, pipeline_id, version_id)
            else:
                target = pipeline_versions.default_of(session, row)
            if body.name:
                row.name = body.name
            if body.description is not None:
                row.description = body.description
            if body.icon is not None:
                row.icon = body.icon
            holder = target
            if body.launch is not None:
                launch = body.launch.model_dump(mode="json", exclude_none=True)
                launch.pop("id", None)
                launch.pop("dateCreated", None)
                holder = pipeline_versions.apply_launch(session, row, target, launch, user)
            # As Seqera: omitted labelIds remove the labels.
            row.label_ids = list(body.labelIds or [])
            row.updated_at = utcnow()
            session.flush()
            version = pipeline_versions.info(holder)
    except IntegrityError:
        raise Conflict(f"A pipeline named '{body.name}' already exists.", field="name") from None
    shown = describe(ctx, workspace_id, pipeline_id)
    return shown.model_copy(update={"version": version})


def check_name(ctx: AppContext, workspace_id: int, name: str) -> None:
    """Seqera's ValidatePipelineName: 400 for a malformed name, 409 for one in use."""
    if not NAME.match(name or ""):
        raise InvalidInput("name: use 1-100 letters, digits, '-' or '_'.", field="name")
    with ctx.db.transaction() as session:
        taken = session.scalar(
            select(models.Pipeline.id).where(
                models.Pipeline.workspace_id == workspace_id,
                models.Pipeline.name == name,
                models.Pipeline.deleted.is_(False),
            )
        )
    if taken is not None:
        raise Conflict(f"A pipeline named '{name}' already exists.", field="name")


def list_versions(
    ctx: AppContext,
    workspace_id: int,
    pipeline_id: int,
    search: str | None,
    published: bool | None,
    max_results: int,
    offset: int,
) -> tuple[list[PipelineDbDto], int]:
    """The pipeline's versions, each as the pipeline with ``version`` set (Seqera's shape)."""
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, pipeline_id)
        found, total = pipeline_versions.list_versions(
            session, row, search, published, max_results, offset
        )
        infos = [pipeline_versions.info(version) for version in found]
    shown = describe(ctx, workspace_id, pipeline_id)
    return [shown.model_copy(update={"version": info}) for info in infos], total


def check_version_name(ctx: AppContext, workspace_id: int, pipeline_id: int, name: str) -> None:
    with ctx.db.transaction() as session:
        _load(session, workspace_id, pipeline_id)
        pipeline_versions.check_name(session, pipeline_id, name)


def manage_version(
    ctx: AppContext,
    workspace_id: int,
    pipeline_id: int,
    version_id: str,
    name: str | None,
    is_default: bool | None,
) -> None:
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, pipeline_id)
        pipeline_versions.manage(session, row, version_id, name, is_default)
        row.updated_at = utcnow()


def change_labels(
    ctx: AppContext, workspace_id: int, pipeline_ids: list[int], label_ids: list[int], how: str
) -> None:
    """``/pipelines/labels/{add,apply,remove}``: add the labels to each pipeline, set them
    as its labels, or remove them from it."""
    if not pipeline_ids:
        raise InvalidInput("pipelineIds: give at least one pipeline id.", field="pipelineIds")
    labels.resolve(ctx, workspace_id, label_ids)
    with ctx.db.transaction() as session:
        rows = [_load(session, workspace_id, pipeline_id) for pipeline_id in pipeline_ids]
        for row in rows:
            current = list(row.label_ids or [])
            if how == "add":
                row.label_ids = current + [i for i in label_ids if i not in current]
            elif how == "apply":
                row.label_ids = list(dict.fromkeys(label_ids))
            else:
                row.label_ids = [i for i in current if i not in label_ids]


def delete(ctx: AppContext, workspace_id: int, pipeline_id: int) -> None:
    """Delete by columns alone, so that a pipeline whose row cannot be read goes too."""
    with ctx.db.transaction() as session:
        done = session.execute(
            update(models.Pipeline)
            .where(
                models.Pipeline.id == pipeline_id,
                models.Pipeline.workspace_id == workspace_id,
                models.Pipeline.deleted.is_(False),
            )
            .values(deleted=True, updated_at=utcnow())
        ).rowcount  # type: ignore[attr-defined]
    if not done:
        raise NotFound(f"Pipeline {pipeline_id} not found in this workspace.")


def launch(
    ctx: AppContext,
    workspace_id: int,
    pipeline_id: int,
    overrides: WorkflowLaunchRequest | None,
    user: str | None = None,
    user_id: int | None = None,
    version_id: str | None = None,
    source_workspace_id: int | None = None,
) -> str:
    """Launch the pipeline's default version, or version ``version_id``, in
    ``workspace_id``; fields set in ``overrides`` replace the saved ones.
    ``source_workspace_id``: the SHARED workspace the pipeline is in (authorised by
    ``authz.require_source``); its launch comes without :data:`LENT_OUT`."""
    with ctx.db.transaction() as session:
        row = _load(session, source_workspace_id or workspace_id, pipeline_id)
        if version_id:
            saved = dict(pipeline_versions.find(session, pipeline_id, version_id).launch or {})
        else:
            saved = dict(row.launch or {})
    if source_workspace_id is not None:
        for key in LENT_OUT:
            saved.pop(key, None)
    if overrides is not None:
        saved.update(overrides.model_dump(mode="json", exclude_unset=True))
    body = WorkflowLaunchRequest.model_validate(saved)
    return launches.launch(
        ctx,
        workspace_id,
        body,
        user=user,
        pipeline_id=pipeline_id,
        user_id=user_id,
        schema_workspace_id=source_workspace_id,  # a shared pipeline's schema is there
    )
