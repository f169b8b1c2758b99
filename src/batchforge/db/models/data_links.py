"""Data links: S3 buckets (discovered from credentials) and prefixes (added by hand).

A *discovered* link's id is derived from its workspace and bucket, so every refresh of every
credentials of the workspace finds the same row; ``data_link_credentials`` says which
credentials see it.  A *custom* link has exactly one credentials; its name is unique in the
workspace (``custom_name``: NULL for discovered links, which are named after their bucket).
``data_link_discovery`` records, per credentials, when its buckets were last listed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, UtcDateTime, utcnow


class DataLink(Base):
    """An S3 location browsable in a workspace."""

    __tablename__ = "data_link"
    __table_args__ = (
        UniqueConstraint("workspace_id", "custom_name", name="uq_data_link_ws_custom_name"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))  # "discovered" | "custom"
    name: Mapped[str] = mapped_column(String(255))
    custom_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    bucket: Mapped[str] = mapped_column(String(63))
    prefix: Mapped[str] = mapped_column(String(1024), default="")
    region: Mapped[str | None] = mapped_column(String(32))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="VALID")
    message: Mapped[str | None] = mapped_column(Text)
    # What AWS answered for the optional actions (s3:DeleteObject, s3:AbortMultipartUpload):
    # action -> {"status": "granted"|"denied", "at": ISO time, "hint": ...}, so the UI offers
    # the extras where they work and explains them where they do not.
    extras: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DataLinkCredentials(Base):
    """Which credentials reach a link (several for a bucket seen by several credentials)."""

    __tablename__ = "data_link_credentials"

    data_link_id: Mapped[str] = mapped_column(
        ForeignKey("data_link.id", ondelete="CASCADE"), primary_key=True
    )
    credentials_id: Mapped[str] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DataLinkDiscovery(Base):
    """The last bucket listing of one credentials: when, how it went, how many buckets."""

    __tablename__ = "data_link_discovery"

    credentials_id: Mapped[str] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16))  # "OK" | "DENIED" | "FAILED"
    message: Mapped[str | None] = mapped_column(Text)
    buckets: Mapped[int] = mapped_column(Integer, default=0)
