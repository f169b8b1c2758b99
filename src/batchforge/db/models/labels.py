"""Labels (Seqera's): plain labels, and resource labels (name=value) that become AWS tags;
``run_label``: which labels a run carries (its launch labels, and those added since)."""

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


class RunLabel(Base):
    """A label a run carries: recorded at launch from its ``labelIds`` and changed through
    ``/workflow/labels/add|apply|remove``.  Deleting the label or the run removes the row.
    (A resource label's AWS tags are the launch's: see services/run_labels.py.)"""

    __tablename__ = "run_label"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    label_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("label.id", ondelete="CASCADE"), primary_key=True, index=True
    )
