"""Organizations, workspaces, users and API tokens: bootstrap and authentication."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import Forbidden, Unauthorized
from batchforge.services import run_tokens
from batchforge.services.context import AppContext, Principal

TOKEN_PREFIX = "bf_"
ADMIN_TOKEN_FILE = "admin-token"
DEFAULT_ORG = "default"
DEFAULT_WORKSPACE = "default"


def hash_token(token: str) -> str:
    """API tokens carry 256 random bits, so a plain SHA-256 is a safe at-rest form."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass
class Bootstrap:
    """What :func:`bootstrap_admin` did: ``token`` is set only when the admin was just made."""

    user_id: int
    workspace_id: int
    token: str | None
    token_file: Path


def bootstrap_admin(ctx: AppContext) -> Bootstrap:
    """On first start: organization, workspace, admin user and token (saved 0600).

    Idempotent: when a user exists nothing is created and ``token`` is None.
    """
    token_file = ctx.settings.data_dir / ADMIN_TOKEN_FILE
    with ctx.db.transaction() as session:
        user = session.scalars(select(models.User).order_by(models.User.id).limit(1)).first()
        if user is not None:
            workspace_id = _default_workspace_id(session, user.id)
            return Bootstrap(user.id, workspace_id or 0, None, token_file)
        org = models.Organization(name=DEFAULT_ORG, full_name="Default organization")
        session.add(org)
        session.flush()
        workspace = models.Workspace(org_id=org.id, name=DEFAULT_WORKSPACE, full_name="Default")
        user = models.User(user_name="admin", email="admin@localhost")
        session.add_all([workspace, user])
        session.flush()
        session.add(models.WorkspaceMember(workspace_id=workspace.id, user_id=user.id))
        token = new_token()
        session.add(models.ApiToken(user_id=user.id, name="admin", token_sha256=hash_token(token)))
        user_id, workspace_id = user.id, workspace.id
    write_private_file(token_file, token + "\n")
    return Bootstrap(user_id, workspace_id, token, token_file)


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600), replacing it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def create_workspace(ctx: AppContext, org_name: str, name: str, owner_id: int | None) -> int:
    """A workspace in ``org_name`` (created if needed); ``owner_id`` becomes its owner."""
    with ctx.db.transaction() as session:
        org = session.scalars(
            select(models.Organization).where(models.Organization.name == org_name)
        ).first()
        if org is None:
            org = models.Organization(name=org_name, full_name=org_name)
            session.add(org)
            session.flush()
        workspace = models.Workspace(org_id=org.id, name=name, full_name=name)
        session.add(workspace)
        session.flush()
        if owner_id is not None:
            session.add(models.WorkspaceMember(workspace_id=workspace.id, user_id=owner_id))
        return workspace.id


def create_user(ctx: AppContext, user_name: str) -> tuple[int, str]:
    """A user without memberships and a token for it: ``(user_id, token)``."""
    token = new_token()
    with ctx.db.transaction() as session:
        user = models.User(user_name=user_name, email=f"{user_name}@localhost")
        session.add(user)
        session.flush()
        session.add(
            models.ApiToken(user_id=user.id, name="default", token_sha256=hash_token(token))
        )
        return user.id, token


def _default_workspace_id(session: Session, user_id: int) -> int | None:
    return session.scalars(
        select(models.WorkspaceMember.workspace_id)
        .where(models.WorkspaceMember.user_id == user_id)
        .order_by(models.WorkspaceMember.workspace_id)
        .limit(1)
    ).first()


def authenticate(ctx: AppContext, token: str | None) -> Principal:
    """The principal owning ``token``; :class:`Unauthorized` for a missing or unknown one.

    A run token (:mod:`batchforge.services.run_tokens`) gives a principal scoped to its run
    (``run_id`` set, the run's workspace with the ``launch`` role); callers that are not the
    trace receiver refuse it (``server/deps.py``)."""
    if not token:
        raise Unauthorized(
            "Missing API token.", hint="Send 'Authorization: Bearer <token>' with each request."
        )
    if run_tokens.is_run_token(token):
        grant = run_tokens.authenticate(ctx, token)
        return Principal(
            0,
            grant.user_name or "nextflow",
            {grant.workspace_id: "launch"},
            grant.workspace_id,
            run_id=grant.run_id,
        )
    with ctx.db.transaction() as session:
        row = session.execute(
            select(models.ApiToken.id, models.User.id, models.User.user_name)
            .join(models.User, models.User.id == models.ApiToken.user_id)
            .where(models.ApiToken.token_sha256 == hash_token(token))
        ).first()
        if row is None:
            raise Unauthorized("Invalid API token.", hint="Check the token, or create a new one.")
        token_id, user_id, user_name = row
        now = utcnow()
        # Record use at most once a minute: no write per request.
        session.execute(
            update(models.ApiToken)
            .where(models.ApiToken.id == token_id)
            .where(
                (models.ApiToken.last_used.is_(None))
                | (models.ApiToken.last_used < now - timedelta(minutes=1))
            )
            .values(last_used=now)
        )
        memberships = session.execute(
            select(models.WorkspaceMember.workspace_id, models.WorkspaceMember.role).where(
                models.WorkspaceMember.user_id == user_id
            )
        ).all()
    roles = {workspace_id: role for workspace_id, role in memberships}
    default = min(roles) if roles else None
    return Principal(user_id, user_name, roles, default)


def resolve_workspace(principal: Principal, workspace_id: int | None) -> int:
    """The workspace a request acts in: the given one (if a member) or the default one."""
    if workspace_id is None:
        if principal.default_workspace_id is None:
            raise Forbidden("You are not a member of any workspace.")
        return principal.default_workspace_id
    if workspace_id not in principal.roles:
        raise Forbidden(f"You have no access to workspace {workspace_id}.", field="workspaceId")
    return workspace_id


def describe_user(ctx: AppContext, principal: Principal) -> models.User:
    with ctx.db.transaction() as session:
        user = session.get(models.User, principal.user_id)
        assert user is not None  # authenticated just before
        return user


def authenticate_token_hash(ctx: AppContext, token_sha256: str) -> Principal:
    """The principal owning the API token whose SHA-256 (:func:`hash_token`) is given.

    The web UI's session cookie holds this hash, sealed, never the token itself: a session
    ends as soon as its token is deleted.  :class:`Unauthorized` when no token matches.
    """
    with ctx.db.transaction() as session:
        row = session.execute(
            select(models.User.id, models.User.user_name)
            .join(models.ApiToken, models.ApiToken.user_id == models.User.id)
            .where(models.ApiToken.token_sha256 == token_sha256)
        ).first()
        if row is None:
            raise Unauthorized("The session's API token no longer exists; sign in again.")
        user_id, user_name = row
        memberships = session.execute(
            select(models.WorkspaceMember.workspace_id, models.WorkspaceMember.role).where(
                models.WorkspaceMember.user_id == user_id
            )
        ).all()
    roles = {workspace_id: role for workspace_id, role in memberships}
    return Principal(user_id, user_name, roles, min(roles) if roles else None)
