"""``/pipeline-schemas``: a workspace's saved pipeline schemas (JSON Schema documents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from batchforge.schemas.pipeline_schemas import (
    CreatePipelineSchemaRequest,
    CreatePipelineSchemaResponse,
)
from batchforge.server.deps import Ctx, CurrentPrincipal
from batchforge.services import pipeline_schemas as service
from batchforge.services.authz import Permission, needs

router = APIRouter(prefix="/pipeline-schemas", tags=["pipeline-schemas"])

CanWrite = Annotated[int, Depends(needs(Permission.PIPELINE_WRITE))]


@router.post("", response_model=CreatePipelineSchemaResponse)
def create_pipeline_schema(
    ctx: Ctx,
    principal: CurrentPrincipal,
    workspace_id: CanWrite,
    body: CreatePipelineSchemaRequest,
) -> CreatePipelineSchemaResponse:
    """Seqera's CreatePipelineSchema: save ``content`` (a JSON Schema object, at most 1 MiB;
    else a 400 naming ``content``); the answer carries its id, for a launch's
    ``pipelineSchemaId``."""
    return CreatePipelineSchemaResponse(
        pipelineSchema=service.create(ctx, workspace_id, body.content, principal.user_name)
    )
