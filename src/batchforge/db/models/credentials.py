"""Cloud credentials of a workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, UtcDateTime, utcnow


class Credentials(Base):
    """Cloud credentials of a workspace.  Public key material is in ``keys`` (JSON); the
    secret key is only in ``secret_encrypted``, bound to the row id."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_credentials_ws_name"),)

    id: Mapped[str] = mapped_column(String(22), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(16))
    keys: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="AVAILABLE")
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_validated: Mapped[datetime | None] = mapped_column(UtcDateTime())
