"""Workspaces of an organization (Seqera's ``/orgs/{orgId}/workspaces``, ``/user/{id}/workspaces``).

An organization's owners create workspaces (and become their owners); a workspace is read by
its participants (``workspace:read``), changed by owners and admins (``workspace:write``) and
deleted by owners (``workspace:delete``) — :mod:`batchforge.services.authz` decides.  A
workspace still holding compute environments (AWS resources) is not deleted (409).

``visibility`` (Seqera's): ``PRIVATE`` (the default) or ``SHARED`` — a shared workspace's
pipelines are listed and launched by the organization's members from their own workspaces
(what that allows is decided in ``authz``).  An organization's collaborators see only the
workspaces they participate in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.errors import Conflict, Forbidden, NotFound
from batchforge.schemas.accounts import (
    OrgAndWorkspaceDto,
    UpdateWorkspaceRequest,
    Workspace,
    WorkspaceDbDto,
)
from batchforge.services import accounts, authz, broken_rows
from batchforge.services.authz import Permission
from batchforge.services.context import AppContext, Principal
from batchforge.services.orgs import drop_idle_collaborators, org_in_reach, require_org_owner


def workspace_in_org(
    session: Session, principal: Principal, org_id: int, workspace_id: int, permission: str
) -> models.Workspace:
    """The workspace, when it is in ``org_id`` and the caller holds ``permission`` in it."""
    authz.require(principal, workspace_id, permission)
    try:
        workspace = session.get(models.Workspace, workspace_id)
    except Exception as error:  # its row cannot be read: a stand-in named as broken
        org_of = select(models.Workspace.org_id).where(models.Workspace.id == workspace_id)
        found_org = session.scalar(org_of)
        if found_org is None:
            raise
        reason = broken_message(found_org, workspace_id, broken_rows.reason_of(error))
        workspace = models.Workspace(
            id=workspace_id, org_id=found_org, name=broken_rows.BROKEN_NAME, full_name=reason
        )
    if workspace is None or workspace.org_id != org_id:
        raise NotFound(f"Workspace {workspace_id} not found.", field="workspaceId")
    return workspace


def _dto(workspace: models.Workspace) -> Workspace:
    return Workspace(
        id=workspace.id,
        name=workspace.name,
        fullName=workspace.full_name,
        visibility=workspace.visibility or "PRIVATE",  # type: ignore[arg-type]
        dateCreated=workspace.created_at,
        lastUpdated=workspace.created_at,
    )


def _name_taken(session: Session, org_id: int, name: str) -> None:
    taken = session.scalars(
        select(models.Workspace.id).where(
            models.Workspace.org_id == org_id, models.Workspace.name == name
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"A workspace named '{name}' already exists in this organization.", field="name"
        )


def validate_name(ctx: AppContext, principal: Principal, org_id: int, name: str) -> None:
    """409 when a workspace of ``org_id`` (one of the caller's) already has ``name``."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id, collaborators=True)
        _name_taken(session, org_id, name)


def create_workspace(
    ctx: AppContext,
    principal: Principal,
    org_id: int,
    name: str,
    full_name: str,
    visibility: str = "PRIVATE",
) -> Workspace:
    """A workspace of ``org_id`` (the caller must own the org) with the caller as owner."""
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        _name_taken(session, org_id, name)
        workspace = models.Workspace(
            org_id=org_id, name=name, full_name=full_name or name, visibility=visibility
        )
        session.add(workspace)
        session.flush()
        member_id = accounts.ensure_org_member(session, org_id, principal.user_id)
        session.add(
            models.WorkspaceParticipant(
                workspace_id=workspace.id, member_id=member_id, role="owner"
            )
        )
        return _dto(workspace)


def list_workspaces(ctx: AppContext, principal: Principal, org_id: int) -> list[WorkspaceDbDto]:
    """The workspaces of ``org_id`` the caller has a role in (an org owner: all of them; a
    collaborator: those it participates in)."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id, collaborators=True)
    query = (
        select(models.Workspace)
        .where(models.Workspace.org_id == org_id, models.Workspace.id.in_(principal.roles))
        .order_by(models.Workspace.name)
    )
    found = broken_rows.rows(ctx, query, models.Workspace.id)
    return broken_rows.each(
        found,
        lambda w: WorkspaceDbDto(
            id=w.id,
            name=w.name,
            fullName=w.full_name,
            visibility=w.visibility,  # type: ignore[arg-type]
        ),
        lambda workspace_id, reason: WorkspaceDbDto(
            id=workspace_id,
            name=broken_rows.BROKEN_NAME,
            fullName=broken_message(org_id, workspace_id, reason),
        ),
        "workspace",
    )


def broken_message(org_id: int, workspace_id: int, reason: str) -> str:
    """What a workspace whose row cannot be read says (see :mod:`broken_rows`)."""
    return broken_rows.message(
        "workspace",
        workspace_id,
        reason,
        f"batchforge workspaces delete -i {workspace_id}",
        f"DELETE /orgs/{org_id}/workspaces/{workspace_id}",
    )


def describe_workspace(
    ctx: AppContext, principal: Principal, org_id: int, workspace_id: int
) -> Workspace:
    """The workspace; one whose row cannot be read is described as broken."""
    with ctx.db.transaction() as session:
        found = workspace_in_org(
            session, principal, org_id, workspace_id, Permission.WORKSPACE_READ
        )
        broken = found not in session
    if broken:  # the stand-in of workspace_in_org, its message in full_name
        return Workspace.model_construct(
            id=workspace_id,
            name=broken_rows.BROKEN_NAME,
            fullName=found.full_name,
            description=found.full_name,
            visibility="PRIVATE",
            dateCreated=None,
            lastUpdated=None,
        )
    return _dto(found)


def update_workspace(
    ctx: AppContext,
    principal: Principal,
    org_id: int,
    workspace_id: int,
    body: UpdateWorkspaceRequest,
) -> Workspace:
    with ctx.db.transaction() as session:
        workspace = workspace_in_org(
            session, principal, org_id, workspace_id, Permission.WORKSPACE_WRITE
        )
        if body.name is not None and body.name != workspace.name:
            _name_taken(session, org_id, body.name)
            workspace.name = body.name
        if body.fullName is not None:
            workspace.full_name = body.fullName
        if body.visibility is not None:
            workspace.visibility = body.visibility
        return _dto(workspace)


def delete_workspace(ctx: AppContext, principal: Principal, org_id: int, workspace_id: int) -> None:
    """Delete a workspace without compute environments (its other resources go with it)."""
    with ctx.db.transaction() as session:
        workspace = workspace_in_org(
            session, principal, org_id, workspace_id, Permission.WORKSPACE_DELETE
        )
        envs = session.scalar(
            select(func.count()).where(models.ComputeEnv.workspace_id == workspace_id)
        )
        if envs:
            raise Conflict(
                f"Workspace '{workspace.name}' still has {envs} compute environment(s).",
                field="workspaceId",
                hint="Delete them first: their AWS resources must be removed.",
            )
        # By columns: a workspace whose row cannot be read goes too.
        session.execute(sql_delete(models.Workspace).where(models.Workspace.id == workspace_id))
        drop_idle_collaborators(session, org_id)


def user_workspaces(
    ctx: AppContext, principal: Principal, user_id: int
) -> list[OrgAndWorkspaceDto]:
    """Seqera's ``ListWorkspacesAndOrgResponse``: one entry per organization of the user
    (``workspaceId`` null, ``roles`` its org role), then one per workspace it has a role in."""
    if user_id != principal.user_id and not principal.is_admin:
        raise Forbidden("You may list only your own workspaces.", field="userId")
    with ctx.db.transaction() as session:
        if user_id == principal.user_id:
            roles, org_roles = principal.roles, principal.org_roles
        else:
            if session.get(models.User, user_id) is None:
                raise NotFound(f"User {user_id} not found.", field="userId")
            roles, org_roles = accounts.effective_roles(session, user_id)
    # Read row by row when need be: one unreadable row is shown as broken, not a 500.
    orgs = {
        org.id: org
        for org in _readable(
            broken_rows.rows(
                ctx,
                select(models.Organization).where(models.Organization.id.in_(org_roles)),
                models.Organization.id,
            ),
            lambda row: models.Organization(id=row.id, name=broken_rows.BROKEN_NAME, full_name=""),
        )
    }
    workspaces = _readable(
        broken_rows.rows(
            ctx,
            select(models.Workspace)
            .where(models.Workspace.id.in_(roles))
            .order_by(models.Workspace.org_id, models.Workspace.name),
            models.Workspace.id,
            models.Workspace.org_id,
        ),
        lambda row: models.Workspace(
            id=row.id, org_id=row.keys[0], name=broken_rows.BROKEN_NAME, full_name=""
        ),
    )
    with ctx.db.transaction() as session:
        entries = [
            OrgAndWorkspaceDto(orgId=org.id, orgName=org.name, roles=[org_roles[org.id]])
            for org in sorted(orgs.values(), key=lambda org: org.name)
        ]
        for workspace in workspaces:
            org = orgs.get(workspace.org_id) or session.get(models.Organization, workspace.org_id)
            assert org is not None  # a workspace's organization (foreign key)
            entries.append(
                OrgAndWorkspaceDto(
                    orgId=org.id,
                    orgName=org.name,
                    workspaceId=workspace.id,
                    workspaceName=workspace.name,
                    workspaceFullName=workspace.full_name,
                    visibility=workspace.visibility,
                    roles=[roles[workspace.id]],
                )
            )
        return entries


def _readable(found: list[Any], stand_in: Callable[[broken_rows.BrokenRow], Any]) -> list[Any]:
    """Rows read by :func:`broken_rows.rows`, a broken one replaced by ``stand_in(row)`` (a
    model object named :data:`broken_rows.BROKEN_NAME`, never added to a session)."""
    return [stand_in(row) if isinstance(row, broken_rows.BrokenRow) else row for row in found]
