"""Users, managed by the system administrator (the bootstrap admin, ``User.is_admin``).

Seqera has sign-up; batchforge's administrator adds users instead, each with a first API token
shown once.  Guard rules (409, nothing written): user names and e-mails are unique; the
administrator does not delete or disable itself; a user who is the last owner of an
organization, or a workspace's last owner/admin participant, is not deleted.  A disabled
user's tokens are refused (``accounts.authenticate``).
"""

from __future__ import annotations

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.errors import Conflict, Forbidden, NotFound
from batchforge.schemas.accounts import AdminUserDto
from batchforge.schemas.common import UserResponseDto
from batchforge.services import broken_rows, participants
from batchforge.services.accounts import hash_token, new_token
from batchforge.services.context import AppContext, Principal


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only the system administrator manages users.")


def user_dto(user: models.User) -> UserResponseDto:
    return UserResponseDto(
        id=user.id,
        userName=user.user_name,
        email=user.email,
        dateCreated=user.created_at,
        lastAccess=user.last_access,
    )


def _admin_dto(user: models.User) -> AdminUserDto:
    return AdminUserDto(
        **user_dto(user).model_dump(), isAdmin=user.is_admin, disabled=user.disabled
    )


def _user_name_taken(session: Session, user_name: str) -> None:
    if session.scalars(select(models.User.id).where(models.User.user_name == user_name)).first():
        raise Conflict(f"A user named '{user_name}' already exists.", field="userName")


def validate_name(ctx: AppContext, user_name: str) -> None:
    """409 when a user already has ``user_name``."""
    with ctx.db.transaction() as session:
        _user_name_taken(session, user_name)


def create_user(
    ctx: AppContext, principal: Principal, user_name: str, email: str | None
) -> tuple[UserResponseDto, str]:
    """A new user (no memberships) and its first API token: ``(user, token)``."""
    require_admin(principal)
    email = email or f"{user_name}@localhost"
    token = new_token()
    with ctx.db.transaction() as session:
        _user_name_taken(session, user_name)
        if session.scalars(
            select(models.User.id).where(func.lower(models.User.email) == email.lower())
        ).first():
            raise Conflict(f"A user with e-mail '{email}' already exists.", field="email")
        user = models.User(user_name=user_name, email=email)
        session.add(user)
        session.flush()
        session.add(
            models.ApiToken(user_id=user.id, name="default", token_sha256=hash_token(token))
        )
        return user_dto(user), token


def list_users(ctx: AppContext, principal: Principal) -> list[AdminUserDto]:
    """Every user; one whose row cannot be read is listed as broken (see
    :mod:`broken_rows`), with how to delete it."""
    require_admin(principal)
    query = select(models.User).order_by(models.User.user_name)
    found = broken_rows.rows(ctx, query, models.User.id)
    return broken_rows.each(found, _admin_dto, _broken_user, "user")


def _broken_user(user_id: int, reason: str) -> AdminUserDto:
    text = broken_rows.message(
        "user", user_id, reason, f"batchforge users delete {user_id}", f"DELETE /users/{user_id}"
    )
    return AdminUserDto(id=user_id, userName=broken_rows.BROKEN_NAME, email=text)


def _user(session: Session, user_id: int) -> models.User:
    user = session.get(models.User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.", field="userId")
    return user


def describe_user(ctx: AppContext, principal: Principal, user_id: int) -> UserResponseDto:
    """The caller itself, or anyone for the administrator (404 otherwise)."""
    if user_id != principal.user_id and not principal.is_admin:
        raise NotFound(f"User {user_id} not found.", field="userId")
    query = select(models.User).where(models.User.id == user_id)
    row = broken_rows.load(ctx, query, models.User.id)
    if row is None:
        raise NotFound(f"User {user_id} not found.", field="userId")
    (shown,) = broken_rows.each([row], user_dto, _broken_user, "user")
    return shown


def user_by_name(ctx: AppContext, principal: Principal, name: str) -> AdminUserDto:
    require_admin(principal)
    with ctx.db.transaction() as session:
        user = session.scalars(select(models.User).where(models.User.user_name == name)).first()
        if user is None:
            raise NotFound(f"No user named '{name}'.", field="userName")
        return _admin_dto(user)


def set_disabled(ctx: AppContext, principal: Principal, user_id: int, disabled: bool) -> None:
    require_admin(principal)
    if user_id == principal.user_id and disabled:
        raise Conflict("You cannot disable yourself.", field="userId")
    with ctx.db.transaction() as session:
        _user(session, user_id).disabled = disabled


def delete_user(ctx: AppContext, principal: Principal, user_id: int) -> None:
    """Delete a user, its tokens and memberships (not the last owner of an organization)."""
    require_admin(principal)
    if user_id == principal.user_id:
        raise Conflict("You cannot delete yourself.", field="userId")
    with ctx.db.transaction() as session:
        # Columns only: a user whose row cannot be read is still deleted (see broken_rows).
        if session.scalar(select(models.User.id).where(models.User.id == user_id)) is None:
            raise NotFound(f"User {user_id} not found.", field="userId")
        owned = session.scalars(
            select(models.OrgMember.org_id).where(
                models.OrgMember.user_id == user_id, models.OrgMember.role == "owner"
            )
        ).all()
        for org_id in owned:
            owners = session.scalar(
                select(func.count()).where(
                    models.OrgMember.org_id == org_id, models.OrgMember.role == "owner"
                )
            )
            if owners <= 1:
                org = session.get(models.Organization, org_id)
                raise Conflict(
                    f"User {user_id} is the last owner of organization "
                    f"'{org.name if org else org_id}'.",
                    field="userId",
                    hint="Make another member an owner of it first.",
                )
        for member_id in session.scalars(
            select(models.OrgMember.id).where(models.OrgMember.user_id == user_id)
        ).all():
            participants.keep_admins_without(session, member_id=member_id)
        session.execute(sql_delete(models.User).where(models.User.id == user_id))
