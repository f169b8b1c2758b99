"""``/labels``: plain and resource labels (resource labels become AWS tags)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from batchforge.schemas.labels import CreateLabelRequest, CreateLabelResponse, ListLabelsResponse
from batchforge.server.deps import Ctx
from batchforge.services import labels as service
from batchforge.services.authz import Permission, needs

router = APIRouter(prefix="/labels", tags=["labels"])

CanRead = Annotated[int, Depends(needs(Permission.LABEL_READ))]
CanWrite = Annotated[int, Depends(needs(Permission.LABEL_WRITE))]
CanDelete = Annotated[int, Depends(needs(Permission.LABEL_DELETE))]


@router.get("", response_model=ListLabelsResponse)
def list_labels(ctx: Ctx, workspace_id: CanRead) -> ListLabelsResponse:
    items = service.list_all(ctx, workspace_id)
    return ListLabelsResponse(labels=items, totalSize=len(items))


@router.post("", response_model=CreateLabelResponse)
def create_label(ctx: Ctx, workspace_id: CanWrite, body: CreateLabelRequest) -> CreateLabelResponse:
    return CreateLabelResponse(**service.create(ctx, workspace_id, body).model_dump())


@router.delete("/{labelId}", status_code=204, response_class=Response)
def delete_label(ctx: Ctx, workspace_id: CanDelete, labelId: int) -> Response:
    service.delete(ctx, workspace_id, labelId)
    return Response(status_code=204)
