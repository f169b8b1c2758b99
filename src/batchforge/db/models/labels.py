"""Labels (Seqera's): plain labels, and resource labels (name=value) that become AWS tags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, IdType, UtcDateTime, utcnow


class Label(Base):
    __tablename__ = "label"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", "value", name="uq_label_ws_name_value"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[str | None] = mapped_column(String(256))
    resource: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
