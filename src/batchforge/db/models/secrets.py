"""Pipeline secrets: workspace secrets, and user secrets that override them by name.

A secret belongs to exactly one owner: a workspace (``workspace_id``) or a user (``user_id``).
Its value is only in ``value_encrypted`` (AES-GCM bound to ``pipeline-secret:<id>``, see
:mod:`batchforge.crypto`), never in clear anywhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, IdType, UtcDateTime, utcnow


class PipelineSecret(Base):
    """A named secret value made available to runs as ``secrets.NAME``."""

    __tablename__ = "pipeline_secret"
    __table_args__ = (
        # NULLs are distinct in unique constraints (SQLite and PostgreSQL alike), so each
        # constraint only binds the rows of its own kind of owner.
        UniqueConstraint("workspace_id", "name", name="uq_pipeline_secret_ws_name"),
        UniqueConstraint("user_id", "name", name="uq_pipeline_secret_user_name"),
        CheckConstraint("(workspace_id IS NULL) <> (user_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    value_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(UtcDateTime())
