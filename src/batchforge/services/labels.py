"""Labels: plain labels, and resource labels (``name=value``) that become AWS tags."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NoReturn

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.errors import Conflict, InvalidInput, NotFound
from batchforge.schemas.compute_envs import LabelDbDto
from batchforge.schemas.labels import CreateLabelRequest, UpdateLabelRequest
from batchforge.schemas.text import INT64_MAX, INT64_MIN
from batchforge.services import broken_rows
from batchforge.services.context import AppContext

# AWS tag rules (keys up to 128, values up to 256; no "aws:" prefix).
TAG_TEXT = re.compile(r"^[\w .:/=+@-]*$")


def to_dto(row: models.Label) -> LabelDbDto:
    return LabelDbDto(
        id=row.id, name=row.name, value=row.value, resource=row.resource, isDefault=row.is_default
    )


def _check_name(name: str | None) -> str:
    """A label name as Seqera and AWS tags allow it (400 naming ``name`` otherwise)."""
    if not name or not TAG_TEXT.match(name) or name.lower().startswith("aws:"):
        raise InvalidInput(
            "name: letters, digits, spaces and _.:/=+-@ only, not starting with 'aws:'.",
            field="name",
        )
    return name


def _check_value(resource: bool, value: str | None) -> str | None:
    """A resource label needs a value; a plain label has none (400 naming ``value``)."""
    if resource and (not value or not TAG_TEXT.match(value)):
        raise InvalidInput(
            "value: a resource label needs a value (letters, digits, spaces and _.:/=+-@).",
            field="value",
        )
    if not resource and value:
        raise InvalidInput(
            "value: only resource labels have a value; this is a plain label.",
            field="value",
            hint="Create a resource label (NAME=VALUE) instead.",
        )
    return value if resource else None


def _check_free(
    session: Session, workspace_id: int, name: str, value: str | None, except_id: int | None
) -> None:
    """No other label of the workspace has this name and value (409 naming ``name``).  The
    unique constraint cannot see duplicate plain labels (their value is NULL), so this asks."""
    query = select(models.Label.id).where(
        models.Label.workspace_id == workspace_id,
        models.Label.name == name,
        models.Label.value.is_(None) if value is None else models.Label.value == value,
    )
    if except_id is not None:
        query = query.where(models.Label.id != except_id)
    if session.scalars(query.limit(1)).first() is not None:
        _duplicate(name, value)


def _duplicate(name: str, value: str | None) -> NoReturn:
    shown = f"{name}={value}" if value is not None else name
    raise Conflict(f"name: label '{shown}' already exists in this workspace.", field="name")


def create(ctx: AppContext, workspace_id: int, body: CreateLabelRequest) -> LabelDbDto:
    """A new label; name and value checked, and refused when the workspace has it already."""
    name = _check_name(body.name)
    value = _check_value(body.resource, body.value)
    try:
        with ctx.db.transaction() as session:
            _check_free(session, workspace_id, name, value, None)
            row = models.Label(
                workspace_id=workspace_id,
                name=name,
                value=value,
                resource=body.resource,
                is_default=body.isDefault,
            )
            session.add(row)
            session.flush()
            return to_dto(row)
    except IntegrityError:
        _duplicate(name, value)


def update(
    ctx: AppContext, workspace_id: int, label_id: int, body: UpdateLabelRequest
) -> LabelDbDto:
    """Seqera's UpdateLabel: a new ``name``, a resource label's new ``value``, ``isDefault``;
    a field left out (null) is kept.  The same rules as :func:`create` (a plain label cannot
    gain a value, a resource label keeps one); 404 for a label not in this workspace.

    AWS tags already applied (to a forged compute environment, to a launched run's jobs)
    keep the old name/value: only later launches tag with the new one."""
    try:
        with ctx.db.transaction() as session:
            row = session.scalars(
                select(models.Label).where(
                    models.Label.id == label_id, models.Label.workspace_id == workspace_id
                )
            ).first()
            if row is None:
                raise NotFound(
                    f"labelId: label {label_id} not found in this workspace.", field="labelId"
                )
            name = row.name if body.name is None else _check_name(body.name)
            value = row.value if body.value is None else _check_value(row.resource, body.value)
            if (name, value) != (row.name, row.value):
                _check_free(session, workspace_id, name, value, row.id)
            row.name, row.value = name, value
            if body.isDefault is not None:
                row.is_default = body.isDefault
            session.flush()
            return to_dto(row)
    except IntegrityError:
        _duplicate(body.name or "", body.value)


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
    """Delete by columns alone, so that a label whose row cannot be read goes too (the
    runs carrying it lose it: ``run_label`` cascades)."""
    with ctx.db.transaction() as session:
        done = session.execute(
            sql_delete(models.Label).where(
                models.Label.id == label_id, models.Label.workspace_id == workspace_id
            )
        ).rowcount  # type: ignore[attr-defined]
    if not done:
        raise NotFound(f"Label {label_id} not found in this workspace.")


def found(ctx: AppContext, workspace_id: int, label_ids: Iterable[int]) -> dict[int, LabelDbDto]:
    """The labels of this workspace among ``label_ids``, by id (a label whose row cannot be
    read is there as broken; an id not in the workspace is absent)."""
    # an id beyond 64 bits cannot exist (and the database would refuse to compare it)
    wanted = [i for i in dict.fromkeys(label_ids) if INT64_MIN <= i <= INT64_MAX]
    if not wanted:
        return {}
    query = select(models.Label).where(
        models.Label.workspace_id == workspace_id, models.Label.id.in_(wanted)
    )
    rows = broken_rows.rows(ctx, query, models.Label.id)  # a broken label shows as broken
    return {dto.id: dto for dto in broken_rows.each(rows, to_dto, _broken, "label")}


def resolve(
    ctx: AppContext, workspace_id: int, label_ids: list[int], field: str = "labelIds"
) -> list[LabelDbDto]:
    """The labels with these ids, in this workspace; an unknown id is a 400 naming it."""
    known = found(ctx, workspace_id, label_ids)
    for index, label_id in enumerate(label_ids):
        if label_id not in known:
            raise InvalidInput(
                f"{field}[{index}]: label {label_id} does not exist in this workspace.",
                field=f"{field}[{index}]",
            )
    return [known[label_id] for label_id in label_ids]


def merged(current: list[int], label_ids: list[int], how: str) -> list[int]:
    """Seqera's ``labels/add|apply|remove`` on one resource's label ids: ``add`` keeps the
    current ones and appends the new, ``apply`` replaces them, ``remove`` drops these."""
    if how == "add":
        return list(dict.fromkeys(current + label_ids))
    if how == "apply":
        return list(dict.fromkeys(label_ids))
    if how == "remove":
        return [i for i in current if i not in label_ids]
    raise ValueError(f"unknown labels operation {how!r}")


def tags_of(labels: list[LabelDbDto]) -> dict[str, str]:
    """Resource labels as AWS tags."""
    return {label.name: label.value or "" for label in labels if label.resource}
