"""Facts about the installation shared by every server replica, one row per name.

``key_check`` holds the encryption key's check value: a constant sealed with the key
(AES-GCM, random nonce; see :mod:`batchforge.services.key_check`).  It reveals nothing about the
key, yet a server whose key cannot open it refuses to start.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, UtcDateTime, utcnow


class ServerMeta(Base):
    """A named value of the installation (``name`` is the key)."""

    __tablename__ = "server_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
