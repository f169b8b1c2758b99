"""``/labels``: plain and resource labels (resource labels become AWS tags)."""

from __future__ import annotations

import builtins
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from batchforge.errors import InvalidInput
from batchforge.schemas.labels import (
    CreateLabelRequest,
    CreateLabelResponse,
    ListLabelsResponse,
    UpdateLabelRequest,
    UpdateLabelResponse,
)
from batchforge.server.deps import Ctx
from batchforge.services import labels as service
from batchforge.services.authz import Permission, needs

router = APIRouter(prefix="/labels", tags=["labels"])

LABEL_TYPES = ("simple", "resource", "all")

CanRead = Annotated[int, Depends(needs(Permission.LABEL_READ))]
CanWrite = Annotated[int, Depends(needs(Permission.LABEL_WRITE))]
CanDelete = Annotated[int, Depends(needs(Permission.LABEL_DELETE))]


@router.get("", response_model=ListLabelsResponse)
def list_labels(
    ctx: Ctx,
    workspace_id: CanRead,
    max: int | None = None,
    offset: int = 0,
    search: str | None = None,
    type: str | None = None,
    isDefault: bool | None = None,
) -> ListLabelsResponse:
    """Seqera's ListLabels: ``type`` simple|resource|all, ``search`` a name substring
    (case-insensitive), ``max``/``offset`` a page; ``totalSize`` counts every match."""
    if type is not None and type not in LABEL_TYPES:
        raise InvalidInput("type: use simple, resource or all.", field="type")
    items = service.list_all(ctx, workspace_id)
    if type in ("simple", "resource"):
        items = [label for label in items if label.resource == (type == "resource")]
    if search:
        items = [label for label in items if search.lower() in label.name.lower()]
    if isDefault is not None:
        items = [label for label in items if label.isDefault == isDefault]
    page = items[builtins.max(0, offset) :]
    if max is not None:
        page = page[: builtins.max(0, max)]
    return ListLabelsResponse(labels=page, totalSize=len(items))


@router.post("", response_model=CreateLabelResponse)
def create_label(ctx: Ctx, workspace_id: CanWrite, body: CreateLabelRequest) -> CreateLabelResponse:
    return CreateLabelResponse(**service.create(ctx, workspace_id, body).model_dump())


@router.put("/{labelId}", response_model=UpdateLabelResponse)
def update_label(
    ctx: Ctx, workspace_id: CanWrite, labelId: int, body: UpdateLabelRequest
) -> UpdateLabelResponse:
    """Seqera's UpdateLabel: rename a label, change a resource label's value, set
    ``isDefault`` (fields left out are kept); 404 for a label of another workspace."""
    return UpdateLabelResponse(**service.update(ctx, workspace_id, labelId, body).model_dump())


@router.delete("/{labelId}", status_code=204, response_class=Response)
def delete_label(ctx: Ctx, workspace_id: CanDelete, labelId: int) -> Response:
    service.delete(ctx, workspace_id, labelId)
    return Response(status_code=204)
