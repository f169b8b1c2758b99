"""Pipeline use cases: named launch configurations, and launching them."""

from __future__ import annotations

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
from batchforge.services import broken_rows, compute_envs, labels, launches
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

        parse_params(launch.paramsText, "launch.paramsText")


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
    return PipelineDbDto(
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


def _save(ctx: AppContext, row: models.Pipeline, new: bool) -> None:
    try:
        with ctx.db.transaction() as session:
            if new:
                session.add(row)
            else:
                session.merge(row)
    except IntegrityError:
        raise Conflict(f"A pipeline named '{row.name}' already exists.", field="name") from None


def create(
    ctx: AppContext, workspace_id: int, body: CreatePipelineRequest, user: str | None = None
) -> PipelineDbDto:
    _validate(ctx, workspace_id, body.name, body.launch)
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
    _save(ctx, row, new=True)
    return _to_dto(ctx, row)


def list_all(
    ctx: AppContext, workspace_id: int, search: str | None, max_results: int, offset: int
) -> tuple[list[PipelineDbDto], int]:
    conditions = [models.Pipeline.workspace_id == workspace_id, models.Pipeline.deleted.is_(False)]
    if search:
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
    return shown, int(total or 0)


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
    return shown


def describe_launch(ctx: AppContext, workspace_id: int, pipeline_id: int) -> LaunchDbDto:
    query = select(models.Pipeline).where(
        models.Pipeline.id == pipeline_id,
        models.Pipeline.workspace_id == workspace_id,
        models.Pipeline.deleted.is_(False),
    )
    how = f"batchforge pipelines delete -i {pipeline_id}|DELETE /pipelines/{pipeline_id}"
    row = broken_rows.readable(ctx, query, models.Pipeline.id, "pipeline", how)
    if row is None:
        raise NotFound(f"Pipeline {pipeline_id} not found in this workspace.")
    return LaunchDbDto(
        **row.launch,
        id=str(row.id),
        workspaceId=workspace_id,
        dateCreated=row.created_at,
        lastUpdated=row.updated_at,
    )


def update_pipeline(
    ctx: AppContext, workspace_id: int, pipeline_id: int, body: UpdatePipelineRequest
) -> PipelineDbDto:
    _validate(ctx, workspace_id, body.name, body.launch)
    if body.labelIds:
        labels.resolve(ctx, workspace_id, body.labelIds)
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, pipeline_id)
    if body.name:
        row.name = body.name
    if body.description is not None:
        row.description = body.description
    if body.icon is not None:
        row.icon = body.icon
    if body.launch is not None:
        row.launch = body.launch.model_dump(mode="json", exclude_none=True)
        row.repository = body.launch.pipeline or row.repository
    row.label_ids = list(body.labelIds or [])  # as Seqera: omitted labelIds remove the labels
    row.updated_at = utcnow()
    _save(ctx, row, new=False)
    return describe(ctx, workspace_id, pipeline_id)


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
) -> str:
    """Launch the pipeline; fields set in ``overrides`` replace the saved ones."""
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, pipeline_id)
        saved = dict(row.launch or {})
    if overrides is not None:
        saved.update(overrides.model_dump(mode="json", exclude_unset=True))
    body = WorkflowLaunchRequest.model_validate(saved)
    return launches.launch(
        ctx, workspace_id, body, user=user, pipeline_id=pipeline_id, user_id=user_id
    )
