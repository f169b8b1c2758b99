"""``/labels``: plain and resource labels (resource labels become AWS tags)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from batchforge.schemas.labels import CreateLabelRequest, CreateLabelResponse, ListLabelsResponse
from batchforge.server.deps import Ctx, WorkspaceId
from batchforge.services import labels as service

router = APIRouter(prefix="/labels", tags=["labels"])


@router.get("", response_model=ListLabelsResponse)
def list_labels(ctx: Ctx, workspace_id: WorkspaceId) -> ListLabelsResponse:
    items = service.list_all(ctx, workspace_id)
    return ListLabelsResponse(labels=items, totalSize=len(items))


@router.post("", response_model=CreateLabelResponse)
def create_label(
    ctx: Ctx, workspace_id: WorkspaceId, body: CreateLabelRequest
) -> CreateLabelResponse:
    return CreateLabelResponse(**service.create(ctx, workspace_id, body).model_dump())


@router.delete("/{labelId}", status_code=204, response_class=Response)
def delete_label(ctx: Ctx, workspace_id: WorkspaceId, labelId: int) -> Response:
    service.delete(ctx, workspace_id, labelId)
    return Response(status_code=204)
