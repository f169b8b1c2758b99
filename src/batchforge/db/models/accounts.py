"""Organizations, workspaces, users, memberships, teams, participants and API tokens.

Seqera's model: a user belongs to an organization as a *member* (role ``owner`` or
``member``) or, participating in some of its workspaces only, as a *collaborator*; an
organization's members form *teams*; a workspace's *participants* are members
(directly) or teams, each with a workspace role.  The effective role of a user in a workspace
is computed in ``services/accounts.py`` (org owner → owner; direct and team roles combine).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, IdType, UtcDateTime, utcnow


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Workspace(Base):
    __tablename__ = "workspace"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_workspace_org_name"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    full_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # PRIVATE: its pipelines are its participants' only; SHARED: the organization's members
    # also list and launch them from their own workspaces (services/authz.py).
    visibility: Mapped[str] = mapped_column(String(16), default="PRIVATE", server_default="PRIVATE")


class User(Base):
    """A user; ``is_admin`` is the system administrator (the bootstrap admin), who manages
    users; a ``disabled`` user's tokens are refused."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(40), unique=True)
    email: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_access: Mapped[datetime | None] = mapped_column(UtcDateTime())
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OrgMember(Base):
    """A user in an organization: role ``owner``, ``member`` or ``collaborator`` (Seqera's
    ``memberId``).  A collaborator is a user made a participant of a workspace without being a
    member: it sees only the workspaces it participates in, and goes with its last
    participation (``services/participants.py``)."""

    __tablename__ = "org_member"
    __table_args__ = (UniqueConstraint("org_id", "user_id", name="uq_org_member_org_user"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")


class Team(Base):
    """A named group of an organization's members."""

    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_team_org_name"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TeamMember(Base):
    """An organization member in a team."""

    __tablename__ = "team_member"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("org_member.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class WorkspaceParticipant(Base):
    """A workspace participant: an org member (``member_id``) or a team (``team_id``), with a
    workspace role: a predefined one (owner, admin, maintain, launch, connect, view) or the
    name of a :class:`CustomRole` of the workspace's organization."""

    __tablename__ = "workspace_participant"
    __table_args__ = (
        UniqueConstraint("workspace_id", "member_id", name="uq_workspace_participant_member"),
        UniqueConstraint("workspace_id", "team_id", name="uq_workspace_participant_team"),
        CheckConstraint("(member_id IS NULL) <> (team_id IS NULL)", name="member_or_team"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_member.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(40))


class CustomRole(Base):
    """An organization's custom workspace role (Seqera's custom roles): a name, a
    description and the permissions it holds — names of ``authz.Permission``.  Participants
    of the organization's workspaces hold it by name (``WorkspaceParticipant.role``)."""

    __tablename__ = "custom_role"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_custom_role_org_name"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(120), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(UtcDateTime())
