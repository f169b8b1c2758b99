"""Labels: plain labels, and resource labels (``name=value``) that become AWS tags."""

from __future__ import annotations

import re

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from batchforge.db import models
from batchforge.errors import Conflict, InvalidInput
from batchforge.schemas.compute_envs import LabelDbDto
from batchforge.schemas.labels import CreateLabelRequest
from batchforge.services import broken_rows
from batchforge.services.context import AppContext

# AWS tag rules (keys up to 128, values up to 256; no "aws:" prefix).
TAG_TEXT = re.compile(r"^[\w .:/=+@-]*$")


def to_dto(row: models.Label) -> LabelDbDto:
    return LabelDbDto(
        id=row.id, name=row.name, value=row.value, resource=row.resource, isDefault=row.is_default
    )


def create(ctx: AppContext, workspace_id: int, body: CreateLabelRequest) -> LabelDbDto:
    if not body.name or not TAG_TEXT.match(body.name) or body.name.lower().startswith("aws:"):
        raise InvalidInput(
            "name: letters, digits, spaces and _.:/=+-@ only, not starting with 'aws:'.",
            field="name",
        )
    if body.resource and (body.value is None or not TAG_TEXT.match(body.value)):
        raise InvalidInput(
            "value: a resource label needs a value (letters, digits, spaces and _.:/=+-@).",
            field="value",
        )
    if not body.resource and body.value:
        raise InvalidInput("value: only resource labels have a value.", field="value")
    try:
        with ctx.db.transaction() as session:
            row = models.Label(
                workspace_id=workspace_id,
                name=body.name,
                value=body.value,
                resource=body.resource,
                is_default=body.isDefault,
            )
            session.add(row)
            session.flush()
            return to_dto(row)
    except IntegrityError:
        raise Conflict(f"Label '{body.name}' already exists.", field="name") from None


def _broken(label_id: int, reason: str) -> LabelDbDto:
    """How a label whose row cannot be read is shown (see :mod:`broken_rows`)."""
    text = broken_rows.message(
        "label",
        label_id,
        reason,
        "",
        f"DELETE /labels/{label_id}",
    )
    return LabelDbDto(id=label_id, name=broken_rows.named(text))


def list_all(ctx: AppContext, workspace_id: int) -> list[LabelDbDto]:
    """The workspace's labels; one whose row cannot be read is listed as broken."""
    query = (
        select(models.Label)
        .where(models.Label.workspace_id == workspace_id)
        .order_by(models.Label.name, models.Label.id)
    )
    found = broken_rows.rows(ctx, query, models.Label.id)
    return broken_rows.each(found, to_dto, _broken, "label")


def delete(ctx: AppContext, workspace_id: int, label_id: int) -> None:
    """Delete by columns alone, so that a label whose row cannot be read goes too."""
    from batchforge.errors import NotFound

    with ctx.db.transaction() as session:
        done = session.execute(
            sql_delete(models.Label).where(
                models.Label.id == label_id, models.Label.workspace_id == workspace_id
            )
        ).rowcount  # type: ignore[attr-defined]
    if not done:
        raise NotFound(f"Label {label_id} not found in this workspace.")


def resolve(
    ctx: AppContext, workspace_id: int, label_ids: list[int], field: str = "labelIds"
) -> list[LabelDbDto]:
    """The labels with these ids, in this workspace; an unknown id is a 400 naming it."""
    if not label_ids:
        return []
    query = select(models.Label).where(
        models.Label.workspace_id == workspace_id, models.Label.id.in_(label_ids)
    )
    rows = broken_rows.rows(ctx, query, models.Label.id)  # a broken label shows as broken
    found = {dto.id: dto for dto in broken_rows.each(rows, to_dto, _broken, "label")}
    for index, label_id in enumerate(label_ids):
        if label_id not in found:
            raise InvalidInput(
                f"{field}[{index}]: label {label_id} does not exist in this workspace.",
                field=f"{field}[{index}]",
            )
    return [found[label_id] for label_id in label_ids]


def tags_of(labels: list[LabelDbDto]) -> dict[str, str]:
    """Resource labels as AWS tags."""
    return {label.name: label.value or "" for label in labels if label.resource}
