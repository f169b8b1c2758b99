"""Pipeline schemas (Seqera's ``/pipeline-schemas``): a workspace's saved JSON Schema documents
(nf-core ``nextflow_schema.json`` style), referred to by a launch's ``pipelineSchemaId``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, IdType, UtcDateTime, utcnow


class PipelineSchema(Base):
    """One saved schema document.  ``content`` is the JSON text as given (a JSON object,
    checked on creation); schemas are never changed, only created (as Seqera's)."""

    __tablename__ = "pipeline_schema"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    content: Mapped[str] = mapped_column(Text)
    creator_user_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
