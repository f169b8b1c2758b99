"""Compute environments and the Forge journal of the AWS resources made for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, IdType, UtcDateTime, utcnow


class ComputeEnv(Base):
    """A compute environment.  ``config`` is the AwsBatchConfig as accepted (the Forge part
    included); ``operation`` is the Forge work in progress ("create", "delete", or
    "rollback" of a failed create) and ``lease_*`` who is doing it until when (several server
    replicas may run).  ``forge_attempts`` counts the failed attempts of that work and
    ``forge_next_at`` is when the next may start (back-off); ``forge_failed`` names the work
    given up after too many attempts, which the retry action re-arms."""

    __tablename__ = "compute_env"
    __table_args__ = (
        # Names are unique among live environments; deleted ones keep theirs for history.
        Index(
            "uq_compute_env_live_name",
            "workspace_id",
            "name",
            unique=True,
            sqlite_where=text("deleted = false"),
            postgresql_where=text("deleted = false"),
        ),
    )

    id: Mapped[str] = mapped_column(String(22), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(32), default="aws-batch")
    # Live environments keep their credentials (the service refuses to delete credentials in
    # use); a deleted environment's reference is cleared when its credentials go.
    credentials_id: Mapped[str | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="SET NULL"), index=True
    )
    region: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # What Forge works from: the ForgeSpec, subnet zones and warnings from the preflight.
    forge_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    primary: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    dispose_on_deletion: Mapped[bool] = mapped_column(Boolean, default=True)
    operation: Mapped[str | None] = mapped_column(String(16))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    forge_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    forge_next_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    forge_failed: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ForgeResource(Base):
    """One journal entry: a resource Forge intends to create, created, or deleted."""

    __tablename__ = "forge_resource"
    __table_args__ = (UniqueConstraint("compute_env_id", "key", name="uq_forge_resource_key"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    compute_env_id: Mapped[str] = mapped_column(
        ForeignKey("compute_env.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(255))
    wave: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    physical_id: Mapped[str | None] = mapped_column(String(255))
    arn: Mapped[str | None] = mapped_column(String(2048))
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
