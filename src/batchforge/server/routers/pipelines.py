"""``/pipelines``: saved launch configurations, and launching them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from batchforge.errors import InvalidInput
from batchforge.schemas.pipeline_schemas import PipelineSchemaResponse
from batchforge.schemas.pipelines import (
    CreatePipelineRequest,
    CreatePipelineResponse,
    DescribeLaunchResponse,
    DescribePipelineResponse,
    ListPipelinesResponse,
    ListPipelineVersionsResponse,
    PipelineLabelsRequest,
    PipelineVersionManageRequest,
    UpdatePipelineRequest,
    UpdatePipelineResponse,
)
from batchforge.schemas.workflows import SubmitWorkflowLaunchRequest, SubmitWorkflowLaunchResponse
from batchforge.server.deps import Ctx, CurrentPrincipal, query_attributes
from batchforge.server.routers.workflows import wake_tracker
from batchforge.services import authz
from batchforge.services import pipelines as service
from batchforge.services.authz import Permission, needs, needs_source

router = APIRouter(prefix="/pipelines", tags=["pipelines"])

CanRead = Annotated[int, Depends(needs(Permission.PIPELINE_READ))]
CanWrite = Annotated[int, Depends(needs(Permission.PIPELINE_WRITE))]
CanLabel = Annotated[int, Depends(needs(Permission.PIPELINE_LABEL_WRITE))]
"""Seqera's matrix gives labelling pipelines (``pipeline_label:write``) to owners and admins
only, although maintainers may change pipelines (``pipeline:write``)."""
CanDelete = Annotated[int, Depends(needs(Permission.PIPELINE_DELETE))]
CanReadLaunch = Annotated[int, Depends(needs(Permission.LAUNCH_READ))]
CanLaunch = Annotated[int, Depends(needs(Permission.WORKFLOW_EXECUTE))]
# ?sourceWorkspaceId: a SHARED workspace's pipeline, read or launched from another workspace.
SharedRead = Annotated[int | None, Depends(needs_source(Permission.PIPELINE_READ))]
SharedLaunch = Annotated[int | None, Depends(needs_source(Permission.LAUNCH_READ))]


PIPELINE_ATTRIBUTES = {"labels", "optimized", "computeEnv"}
Attributes = Annotated[
    str | None, Query(description="labels,optimized,computeEnv (labels are always included)")
]
VISIBILITIES = {"all", "private", "shared"}
SCHEMA_ATTRIBUTES = {"schema", "params"}


@router.get("", response_model=ListPipelinesResponse)
def list_pipelines(
    ctx: Ctx,
    principal: CurrentPrincipal,
    workspace_id: CanRead,
    max: int = 50,
    offset: int = 0,
    search: Annotated[
        str | None, Query(description='A name substring; "NAME" in double quotes: exactly NAME')
    ] = None,
    attributes: Attributes = None,
    visibility: Annotated[
        str | None,
        Query(
            description="private (default): this workspace's; shared: those of the "
            "organization's other SHARED workspaces; all: both"
        ),
    ] = None,
    sortBy: str | None = None,
    sortDir: str | None = None,
) -> ListPipelinesResponse:
    """The workspace's pipelines by name (Seqera's default sort), each with its default
    version; ``visibility`` adds the shared ones :func:`authz.shared_sources` allows."""
    query_attributes(attributes, PIPELINE_ATTRIBUTES)
    if visibility is not None and visibility not in VISIBILITIES:
        raise InvalidInput(
            f"visibility: use one of {', '.join(sorted(VISIBILITIES))}.", field="visibility"
        )
    chosen = visibility or "private"
    shared = authz.shared_sources(principal, workspace_id) if chosen != "private" else []
    ids = shared if chosen == "shared" else [workspace_id, *shared]
    items, total = service.list_all(ctx, workspace_id, search, max, offset, ids)
    return ListPipelinesResponse(pipelines=items, totalSize=total)


@router.get("/validate", status_code=204, response_class=Response)
def validate_pipeline_name(
    ctx: Ctx, workspace_id: CanRead, name: str = "", orgId: int | None = None
) -> Response:
    """Seqera's ValidatePipelineName: 204 when ``name`` is valid and free here."""
    service.check_name(ctx, workspace_id, name)
    return Response(status_code=204)


def _labels_route(how: str) -> Any:
    def change(ctx: Ctx, workspace_id: CanLabel, body: PipelineLabelsRequest) -> Response:
        service.change_labels(ctx, workspace_id, body.pipelineIds, body.labelIds, how)
        return Response(status_code=204)

    change.__doc__ = f"Seqera's /pipelines/labels/{how}: {how} labels of many pipelines."
    return change


for _how in ("add", "apply", "remove"):
    router.add_api_route(
        f"/labels/{_how}",
        _labels_route(_how),
        methods=["POST"],
        status_code=204,
        response_class=Response,
        name=f"pipeline_labels_{_how}",
    )


@router.post("", response_model=CreatePipelineResponse)
def create_pipeline(
    ctx: Ctx, principal: CurrentPrincipal, workspace_id: CanWrite, body: CreatePipelineRequest
) -> CreatePipelineResponse:
    return CreatePipelineResponse(
        pipeline=service.create(ctx, workspace_id, body, principal.user_name)
    )


@router.get("/{pipelineId}", response_model=DescribePipelineResponse)
def describe_pipeline(
    ctx: Ctx,
    workspace_id: CanRead,
    pipelineId: int,
    source: SharedRead,
    attributes: Attributes = None,
) -> DescribePipelineResponse:
    """The pipeline with its default version (``version``); ``sourceWorkspaceId``: a
    shared pipeline of that workspace."""
    query_attributes(attributes, PIPELINE_ATTRIBUTES)
    return DescribePipelineResponse(
        pipeline=service.describe(ctx, source or workspace_id, pipelineId)
    )


@router.get(
    "/{pipelineId}/schema",
    response_model=PipelineSchemaResponse,
    response_model_exclude_none=True,
    responses={204: {"description": "The pipeline has no saved schema"}},
)
def describe_pipeline_schema(
    ctx: Ctx,
    workspace_id: CanRead,
    pipelineId: int,
    source: SharedRead,
    attributes: Annotated[str | None, Query(description="schema,params (default: both)")] = None,
    versionId: Annotated[
        str | None, Query(description="The version whose schema (default: the default version)")
    ] = None,
) -> Any:
    """Seqera's DescribePipelineSchema: the saved schema of the pipeline's default version
    (or of ``versionId``: its launch's ``pipelineSchemaId``) and the launch's ``paramsText``
    as ``params``; 204 when that launch has no saved schema.  ``sourceWorkspaceId``: a
    shared pipeline of that workspace."""
    wanted = query_attributes(attributes, SCHEMA_ATTRIBUTES) or SCHEMA_ATTRIBUTES
    found = service.describe_schema(ctx, source or workspace_id, pipelineId, versionId)
    if found is None:
        return Response(status_code=204)
    schema, params = found
    return PipelineSchemaResponse(
        schema=schema if "schema" in wanted else None,
        params=params if "params" in wanted else None,
    )


@router.put("/{pipelineId}", response_model=UpdatePipelineResponse)
def update_pipeline(
    ctx: Ctx,
    principal: CurrentPrincipal,
    workspace_id: CanWrite,
    pipelineId: int,
    body: UpdatePipelineRequest,
) -> UpdatePipelineResponse:
    """Seqera's UpdatePipeline: the pipeline and its default version."""
    return UpdatePipelineResponse(
        pipeline=service.update_pipeline(
            ctx, workspace_id, pipelineId, body, user=principal.user_name
        )
    )


@router.get("/{pipelineId}/versions", response_model=ListPipelineVersionsResponse)
def list_pipeline_versions(
    ctx: Ctx,
    workspace_id: CanRead,
    pipelineId: int,
    max: int = 50,
    offset: int = 0,
    search: str | None = None,
    isPublished: bool | None = None,
) -> ListPipelineVersionsResponse:
    """Seqera's ListPipelineVersions: the default first, then newest first."""
    items, total = service.list_versions(
        ctx, workspace_id, pipelineId, search, isPublished, max, offset
    )
    return ListPipelineVersionsResponse(versions=items, totalSize=total)


@router.get("/{pipelineId}/versions/validate", status_code=204, response_class=Response)
def validate_pipeline_version_name(
    ctx: Ctx, workspace_id: CanRead, pipelineId: int, name: str = ""
) -> Response:
    """204 when ``name`` is a valid version name no version of the pipeline has."""
    service.check_version_name(ctx, workspace_id, pipelineId, name)
    return Response(status_code=204)


@router.post("/{pipelineId}/versions/{versionId}", response_model=UpdatePipelineResponse)
def update_pipeline_version(
    ctx: Ctx,
    principal: CurrentPrincipal,
    workspace_id: CanWrite,
    pipelineId: int,
    versionId: str,
    body: UpdatePipelineRequest,
) -> UpdatePipelineResponse:
    """Seqera's UpdatePipelineVersion: a change of a versionable field makes a new named
    version (the default when ``versionId`` was), returned as ``pipeline.version``."""
    return UpdatePipelineResponse(
        pipeline=service.update_pipeline(
            ctx, workspace_id, pipelineId, body, version_id=versionId, user=principal.user_name
        )
    )


@router.put("/{pipelineId}/versions/{versionId}/manage", status_code=204, response_class=Response)
def manage_pipeline_version(
    ctx: Ctx,
    workspace_id: CanWrite,
    pipelineId: int,
    versionId: str,
    body: PipelineVersionManageRequest,
) -> Response:
    """Seqera's ManagePipelineVersion: rename the version and/or make it the default."""
    service.manage_version(ctx, workspace_id, pipelineId, versionId, body.name, body.isDefault)
    return Response(status_code=204)


@router.delete("/{pipelineId}", status_code=204, response_class=Response)
def delete_pipeline(ctx: Ctx, workspace_id: CanDelete, pipelineId: int) -> Response:
    service.delete(ctx, workspace_id, pipelineId)
    return Response(status_code=204)


@router.get("/{pipelineId}/launch", response_model=DescribeLaunchResponse)
def describe_pipeline_launch(
    ctx: Ctx,
    workspace_id: CanReadLaunch,
    source: SharedLaunch,
    pipelineId: int,
    versionId: str | None = None,
) -> DescribeLaunchResponse:
    """The launch of the default version (or of ``versionId``), with ``computeEnv``;
    ``sourceWorkspaceId``: a shared pipeline's, as launched from this workspace (without the
    shared workspace's compute environment, work directory and labels)."""
    return DescribeLaunchResponse(
        launch=service.describe_launch(
            ctx, source or workspace_id, pipelineId, versionId, lent=source is not None
        )
    )


@router.post("/{pipelineId}/launch", response_model=SubmitWorkflowLaunchResponse)
def launch_pipeline(
    request: Request,
    ctx: Ctx,
    principal: CurrentPrincipal,
    workspace_id: CanLaunch,
    source: SharedLaunch,
    pipelineId: int,
    body: SubmitWorkflowLaunchRequest | None = None,
    versionId: Annotated[
        str | None, Query(description="The version to launch (default: the default version)")
    ] = None,
) -> SubmitWorkflowLaunchResponse:
    """batchforge extension: launch the saved pipeline (its default version, or
    ``versionId``); ``launch`` fields override it.  ``sourceWorkspaceId``: a shared pipeline
    of that workspace, launched here (on this workspace's compute environment)."""
    overrides = body.launch if body is not None else None
    run_id = service.launch(
        ctx,
        workspace_id,
        pipelineId,
        overrides,
        principal.user_name,
        principal.user_id,
        version_id=versionId,
        source_workspace_id=source,
    )
    wake_tracker(request)
    return SubmitWorkflowLaunchResponse(workflowId=run_id)
