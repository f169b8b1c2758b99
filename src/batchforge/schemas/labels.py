"""Label shapes (Seqera's)."""

from __future__ import annotations

from pydantic import Field

from batchforge.schemas.common import ApiModel
from batchforge.schemas.compute_envs import LabelDbDto


class CreateLabelRequest(ApiModel):
    name: str = Field(max_length=128)
    value: str | None = Field(default=None, max_length=256)
    resource: bool = False
    isDefault: bool = False


class CreateLabelResponse(LabelDbDto):
    pass


class UpdateLabelRequest(ApiModel):
    """Seqera's UpdateLabelRequest: a field left out (null) keeps its value."""

    name: str | None = Field(default=None, max_length=128)
    value: str | None = Field(default=None, max_length=256)
    isDefault: bool | None = None


class UpdateLabelResponse(LabelDbDto):
    """Seqera's UpdateLabelResponse (id, name, value, isDefault; ``resource`` too)."""


class ListLabelsResponse(ApiModel):
    labels: list[LabelDbDto]
    totalSize: int
