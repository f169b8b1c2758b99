"""Organizations, workspaces, users and API tokens: bootstrap, authentication, effective roles.

The effective role of a user in a workspace (:func:`effective_roles`) is the highest of: its
direct participant role, the roles of its teams that participate, and ``owner`` in every
workspace of an organization it owns.  ``Principal.roles`` holds exactly that.  Its
permissions there (``Principal.permissions``, :func:`effective_access`) are the union of the
permissions of those roles — custom roles of the organization included — which for the
predefined roles is the higher role's.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.db.models.accounts import CustomRole
from batchforge.errors import Forbidden, Unauthorized
from batchforge.services import authz, run_tokens
from batchforge.services.authz import ROLES
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
        user = models.User(user_name="admin", email="admin@localhost", is_admin=True)
        session.add_all([workspace, user])
        session.flush()
        member = models.OrgMember(org_id=org.id, user_id=user.id, role="owner")
        session.add(member)
        session.flush()
        session.add(
            models.WorkspaceParticipant(
                workspace_id=workspace.id, member_id=member.id, role="owner"
            )
        )
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
            member_id = ensure_org_member(session, org.id, owner_id)
            session.add(
                models.WorkspaceParticipant(
                    workspace_id=workspace.id, member_id=member_id, role="owner"
                )
            )
        return workspace.id


def ensure_org_member(session: Session, org_id: int, user_id: int, role: str = "member") -> int:
    """The id of ``user_id``'s membership of ``org_id``, made (with ``role``) when missing."""
    member_id = session.scalars(
        select(models.OrgMember.id).where(
            models.OrgMember.org_id == org_id, models.OrgMember.user_id == user_id
        )
    ).first()
    if member_id is None:
        member = models.OrgMember(org_id=org_id, user_id=user_id, role=role)
        session.add(member)
        session.flush()
        member_id = member.id
    return member_id


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
    roles, _ = effective_roles(session, user_id)
    return min(roles) if roles else None


def display_role(held: set[str] | frozenset[str]) -> str:
    """The one role shown for a user holding the roles ``held`` in a workspace: the highest
    predefined one (``authz.ROLES`` is highest first), else the first custom one by name."""
    predefined = [role for role in ROLES if role in held]
    return predefined[0] if predefined else min(held)


@dataclass(frozen=True)
class Access:
    """What a user may do: ``roles`` (workspace id → the role shown, :func:`display_role`),
    ``org_roles`` (org id → org role) and ``permissions`` (workspace id → the union of the
    permissions of every role it holds there; all of them in an organization it owns)."""

    roles: dict[int, str]
    org_roles: dict[int, str]
    permissions: dict[int, frozenset[str]]


def effective_access(session: Session, user_id: int) -> Access:
    """:class:`Access` of ``user_id``: org owner → ``owner`` of every workspace of the org;
    otherwise its direct participant role and the roles of its teams that participate, whose
    permissions combine by union (custom roles resolved in one query)."""
    members = session.execute(
        select(models.OrgMember.id, models.OrgMember.org_id, models.OrgMember.role).where(
            models.OrgMember.user_id == user_id
        )
    ).all()
    org_roles = {org_id: role for _, org_id, role in members}
    member_ids = [member_id for member_id, _, _ in members]
    roles: dict[int, str] = {}
    permissions: dict[int, frozenset[str]] = {}
    if not member_ids:
        return Access(roles, org_roles, permissions)
    owned = [org_id for org_id, role in org_roles.items() if role == "owner"]
    if owned:
        for (workspace_id,) in session.execute(
            select(models.Workspace.id).where(models.Workspace.org_id.in_(owned))
        ):
            roles[workspace_id] = "owner"
            permissions[workspace_id] = authz.ALL_PERMISSIONS
    teams = select(models.TeamMember.team_id).where(models.TeamMember.member_id.in_(member_ids))
    rows = session.execute(
        select(
            models.WorkspaceParticipant.workspace_id,
            models.WorkspaceParticipant.role,
            models.Workspace.org_id,
        )
        .join(models.Workspace, models.Workspace.id == models.WorkspaceParticipant.workspace_id)
        .where(
            or_(
                models.WorkspaceParticipant.member_id.in_(member_ids),
                models.WorkspaceParticipant.team_id.in_(teams),
            )
        )
    ).all()
    held: dict[int, set[str]] = {}
    org_of: dict[int, int] = {}
    for workspace_id, role, org_id in rows:
        if workspace_id in permissions:  # an organization it owns: owner already
            continue
        held.setdefault(workspace_id, set()).add(role)
        org_of[workspace_id] = org_id
    custom_orgs = {
        org_of[ws] for ws, names in held.items() if any(name not in ROLES for name in names)
    }
    custom: dict[int, dict[str, frozenset[authz.Permission]]] = {}  # org → name → permissions
    if custom_orgs:
        for org_id, name, names in session.execute(
            select(CustomRole.org_id, CustomRole.name, CustomRole.permissions).where(
                CustomRole.org_id.in_(custom_orgs)
            )
        ):
            custom.setdefault(org_id, {})[name] = authz.known_permissions(names or [])
    for workspace_id, names in held.items():
        roles[workspace_id] = display_role(names)
        permissions[workspace_id] = authz.role_permissions(
            names, custom.get(org_of[workspace_id], {})
        )
    return Access(roles, org_roles, permissions)


def effective_roles(session: Session, user_id: int) -> tuple[dict[int, str], dict[int, str]]:
    """``(workspace id → effective role, org id → org role)`` of ``user_id``
    (:func:`effective_access` without the permissions)."""
    access = effective_access(session, user_id)
    return access.roles, access.org_roles


ORG_MEMBER_ROLES = ("owner", "member")
"""Organization roles of members; the other one, ``collaborator``, sees only the workspaces it
participates in."""


def workspace_reach(
    session: Session, roles: dict[int, str], org_roles: dict[int, str]
) -> tuple[dict[int, int], frozenset[int]]:
    """``(workspace id → org id, SHARED workspaces)`` for a user with ``roles`` and
    ``org_roles``: the organizations of its workspaces, and the SHARED workspaces of the
    organizations it is an owner or member of (with their organizations in the map too)."""
    member_of = [org_id for org_id, role in org_roles.items() if role in ORG_MEMBER_ROLES]
    rows = session.execute(
        select(models.Workspace.id, models.Workspace.org_id, models.Workspace.visibility).where(
            or_(
                models.Workspace.id.in_(list(roles)),
                models.Workspace.org_id.in_(member_of) & (models.Workspace.visibility == "SHARED"),
            )
        )
    ).all()
    orgs = {workspace_id: org_id for workspace_id, org_id, _ in rows}
    shared = frozenset(
        workspace_id
        for workspace_id, org_id, visibility in rows
        if visibility == "SHARED" and org_id in member_of
    )
    return orgs, shared


def _principal(session: Session, user: models.User) -> Principal:
    access = effective_access(session, user.id)
    roles, org_roles = access.roles, access.org_roles
    orgs, shared = workspace_reach(session, roles, org_roles)
    return Principal(
        user.id,
        user.user_name,
        roles,
        min(roles) if roles else None,
        org_roles=org_roles,
        is_admin=user.is_admin,
        workspace_orgs=orgs,
        shared=shared,
        permissions=access.permissions,
    )


def _refuse_disabled(user: models.User) -> None:
    if user.disabled:
        raise Unauthorized(
            f"User '{user.user_name}' is disabled.",
            hint="An administrator can enable it again ('batchforge users enable').",
        )


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
            select(models.ApiToken.id, models.User)
            .join(models.User, models.User.id == models.ApiToken.user_id)
            .where(models.ApiToken.token_sha256 == hash_token(token))
        ).first()
        if row is None:
            raise Unauthorized("Invalid API token.", hint="Check the token, or create a new one.")
        token_id, user = row
        _refuse_disabled(user)
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
        return _principal(session, user)


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
        user = session.scalars(
            select(models.User)
            .join(models.ApiToken, models.ApiToken.user_id == models.User.id)
            .where(models.ApiToken.token_sha256 == token_sha256)
        ).first()
        if user is None:
            raise Unauthorized("The session's API token no longer exists; sign in again.")
        _refuse_disabled(user)
        return _principal(session, user)


def principal_of_user(ctx: AppContext, user_id: int) -> Principal:
    """The principal of ``user_id`` (a web session's user); :class:`Unauthorized` when the
    user no longer exists or is disabled."""
    with ctx.db.transaction() as session:
        user = session.get(models.User, user_id)
        if user is None:
            raise Unauthorized("The session's user no longer exists; sign in again.")
        _refuse_disabled(user)
        return _principal(session, user)
