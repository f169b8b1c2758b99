"""Web UI sessions, kept server-side so that signing out ends them for good.

The browser's cookie holds a random session key (sealed); the database keeps only its
SHA-256.  A session belongs to a user; one started with an API token also points at that token
(deleting the token ends the session, by cascade).  Signing out deletes the row: a copy of the
cookie taken before then no longer signs anyone in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, IdType, UtcDateTime, utcnow


class WebSessionRow(Base):
    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    api_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_token.id", ondelete="CASCADE"), index=True
    )
    # How the user signed in: "token" (an API token) or "oidc" (single sign-on).
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class UserIdentity(Base):
    """A user's account at an OpenID Connect provider: ``(issuer, subject)`` is who signed in
    (the ``sub`` claim is stable; e-mail addresses may change)."""

    __tablename__ = "user_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
