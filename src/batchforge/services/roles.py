"""Custom workspace roles of an organization (Seqera's ``/roles``).

An organization's owners create, change and delete its custom roles (``org_owner``); its
members read them (list, describe, permissions), collaborators do not.  The six predefined
roles (``authz.ROLES``) are listed with them (``isPredefined``), their permissions read from
the matrix; they cannot be changed.

Rules, as Seqera's: a role name has 2 to 40 letters or digits with single ``-``/``_`` between
them (the rule of organization, workspace and team names), is none of the predefined names
(in any case) and is unique in the organization, case aside (409); a description has 1 to
120 characters; permissions are names of :class:`~batchforge.services.authz.Permission`
(400 naming ``permissions[i]``).  Renaming a role renames it on every participant holding
it; a role that participants hold cannot be deleted (409 naming them) — give them another
role first.  Participants hold a custom role by name (``WorkspaceParticipant.role``);
:func:`resolve_role` checks a role given to a participant.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.db.models.accounts import CustomRole
from batchforge.errors import Conflict, InvalidInput, NotFound
from batchforge.schemas.accounts import NAME_PATTERN
from batchforge.schemas.roles import (
    CreateRoleRequest,
    CreateRoleResponse,
    RoleDto,
    RoleInfo,
    RolePermissionResponseDto,
    UpdateRoleRequest,
)
from batchforge.services import authz
from batchforge.services.authz import ROLES, Permission
from batchforge.services.context import AppContext, Principal
from batchforge.services.orgs import org_in_reach, require_org_owner

ROLE_TYPES = ("predefined", "custom")
_NAME = re.compile(NAME_PATTERN)
_ORDER = {wanted: index for index, wanted in enumerate(Permission)}


def check_name(name: str | None, field: str = "name") -> str:
    """``name`` as a custom role name, or :class:`InvalidInput` naming ``field``."""
    if name is None or not name.strip():
        raise InvalidInput("A role name is required.", field=field)
    name = name.strip()
    if not 2 <= len(name) <= 40 or not _NAME.match(name):
        raise InvalidInput(
            f"Role name '{name}' is not valid: 2 to 40 letters or digits, with single '-' or "
            "'_' between them.",
            field=field,
        )
    if name.lower() in ROLES:
        raise InvalidInput(
            f"'{name}' is a predefined role name ({', '.join(ROLES)}); choose another.",
            field=field,
        )
    return name


def check_permissions(names: list[str]) -> list[str]:
    """``names`` as permission names, in the order given (repeats dropped), or
    :class:`InvalidInput` naming the first unknown one as ``permissions[i]``."""
    found: list[str] = []
    for index, name in enumerate(names):
        try:
            wanted = str(Permission(name.strip()))
        except ValueError:
            raise InvalidInput(
                f"Unknown permission '{name}'.",
                field=f"permissions[{index}]",
                hint="GET /roles/permissions lists the permission names.",
            ) from None
        if wanted not in found:
            found.append(wanted)
    return found


def _find(session: Session, org_id: int, name: str) -> CustomRole | None:
    """The organization's custom role named ``name`` (exactly, else case aside)."""
    rows = session.scalars(
        select(CustomRole).where(
            CustomRole.org_id == org_id, func.lower(CustomRole.name) == name.lower()
        )
    ).all()
    exact = [row for row in rows if row.name == name]
    return exact[0] if exact else (rows[0] if rows else None)


def _taken(session: Session, org_id: int, name: str, but: int | None = None) -> None:
    found = _find(session, org_id, name)
    if found is not None and found.id != but:
        raise Conflict(
            f"A role named '{found.name}' already exists in this organization.", field="name"
        )


def resolve_role(session: Session, org_id: int, role: str, field: str = "role") -> str:
    """The role a participant of a workspace of ``org_id`` is given as ``role``: a predefined
    one (any case, stored lower case) or a custom role of the organization (its stored
    name); :class:`InvalidInput` naming ``field`` otherwise."""
    role = role.strip()
    if role.lower() in ROLES:
        return role.lower()
    found = _find(session, org_id, role)
    if found is None:
        raise InvalidInput(
            f"Role '{role}' is neither a predefined role ({', '.join(ROLES)}) nor a custom "
            "role of this organization.",
            field=field,
            hint="GET /roles?orgId= lists the organization's roles.",
        )
    return found.name


def custom_permissions(session: Session, org_id: int, role: str) -> frozenset[Permission]:
    """The permissions of custom role ``role`` of ``org_id`` (empty when there is none)."""
    found = _find(session, org_id, role)
    return authz.known_permissions(found.permissions or []) if found is not None else frozenset()


def custom_roles_by_name(session: Session, org_id: int) -> dict[str, frozenset[Permission]]:
    """``org_id``'s custom roles and their permissions, sorted by name (for role pickers)."""
    rows = session.scalars(select(CustomRole).where(CustomRole.org_id == org_id)).all()
    return {
        row.name: authz.known_permissions(row.permissions or [])
        for row in sorted(rows, key=lambda row: row.name.lower())
    }


def _predefined_dto(role: str) -> RoleDto:
    return RoleDto(
        name=role,
        description=authz.PREDEFINED_DESCRIPTIONS[role],
        isPredefined=True,
        permissions=[
            str(wanted)
            for wanted in sorted(authz.predefined_permissions(role), key=_ORDER.__getitem__)
        ],
    )


def _custom_dto(row: CustomRole) -> RoleDto:
    return RoleDto(
        name=row.name,
        description=row.description,
        isPredefined=False,
        permissions=list(row.permissions or []),
    )


def list_roles(
    ctx: AppContext,
    principal: Principal,
    org_id: int,
    *,
    max_: int | None = None,
    offset: int | None = None,
    name: str | None = None,
    type_: str | None = None,
) -> tuple[list[RoleInfo], int]:
    """The predefined roles, then the organization's custom ones by name; ``name`` filters
    (a part of the name, case aside), ``type_`` keeps ``predefined`` or ``custom`` ones.
    ``(the page, the total before paging)``."""
    kind = (type_ or "").strip().lower() or None
    if kind is not None and kind not in ROLE_TYPES:
        raise InvalidInput(f"type must be one of {', '.join(ROLE_TYPES)}.", field="type")
    if (max_ is not None and max_ < 0) or (offset is not None and offset < 0):
        raise InvalidInput("max and offset cannot be negative.", field="max")
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id)
        found: list[RoleDto] = []
        if kind in (None, "predefined"):
            found += [_predefined_dto(role) for role in ROLES]
        if kind in (None, "custom"):
            rows = session.scalars(select(CustomRole).where(CustomRole.org_id == org_id)).all()
            found += [_custom_dto(row) for row in sorted(rows, key=lambda r: r.name.lower())]
    if name:
        found = [role for role in found if name.strip().lower() in role.name.lower()]
    total = len(found)
    start = offset or 0
    page = found[start : start + max_ if max_ else None]
    return [
        RoleInfo(name=r.name, description=r.description, isPredefined=r.isPredefined) for r in page
    ], total


def list_permissions(
    ctx: AppContext, principal: Principal, org_id: int
) -> list[RolePermissionResponseDto]:
    """Every permission a custom role may hold, with its category (the resource)."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id)
    return [
        RolePermissionResponseDto(name=str(wanted), category=str(wanted).split(":", 1)[0])
        for wanted in Permission
    ]


def validate_name(ctx: AppContext, principal: Principal, org_id: int, name: str | None) -> None:
    """Nothing when ``name`` is a valid, free custom role name in the organization; 400 or
    409 otherwise."""
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id)
        _taken(session, org_id, check_name(name))


def describe_role(ctx: AppContext, principal: Principal, org_id: int, name: str) -> RoleDto:
    """A predefined role (its name in any case) or a custom role of the organization."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id)
        if name.lower() in ROLES:
            return _predefined_dto(name.lower())
        return _custom_dto(_role(session, org_id, name))


def _role(session: Session, org_id: int, name: str) -> CustomRole:
    found = _find(session, org_id, name)
    if found is None:
        raise NotFound(f"Role '{name}' not found in this organization.", field="roleName")
    return found


def _not_predefined(name: str) -> None:
    if name.lower() in ROLES:
        raise InvalidInput(
            f"'{name.lower()}' is a predefined role: it cannot be changed or deleted.",
            field="roleName",
        )


def create_role(
    ctx: AppContext, principal: Principal, org_id: int, body: CreateRoleRequest
) -> CreateRoleResponse:
    """A new custom role (organization owners only)."""
    name = check_name(body.name)
    permissions = check_permissions(body.permissions)
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        _taken(session, org_id, name)
        row = CustomRole(
            org_id=org_id,
            name=name,
            description=body.description.strip(),
            permissions=permissions,
        )
        session.add(row)
        session.flush()
        return CreateRoleResponse(
            name=row.name, description=row.description, permissions=permissions
        )


def _holders(session: Session, org_id: int, name: str) -> list[str]:
    """Where custom role ``name`` of ``org_id`` is held: ``workspace 'w' (member 'u')``."""
    rows = session.execute(
        select(models.Workspace.name, models.User.user_name, models.Team.name)
        .select_from(models.WorkspaceParticipant)
        .join(models.Workspace, models.Workspace.id == models.WorkspaceParticipant.workspace_id)
        .outerjoin(models.OrgMember, models.OrgMember.id == models.WorkspaceParticipant.member_id)
        .outerjoin(models.User, models.User.id == models.OrgMember.user_id)
        .outerjoin(models.Team, models.Team.id == models.WorkspaceParticipant.team_id)
        .where(models.Workspace.org_id == org_id, models.WorkspaceParticipant.role == name)
        .order_by(models.Workspace.name, models.WorkspaceParticipant.id)
    ).all()
    return [
        f"workspace '{workspace}' ({f'team {team!r}' if team else f'member {user!r}'})"
        for workspace, user, team in rows
    ]


def update_role(
    ctx: AppContext, principal: Principal, org_id: int, role_name: str, body: UpdateRoleRequest
) -> None:
    """Change a custom role's description and permissions, and rename it when ``name`` is
    given (its participants keep it); takes effect from each holder's next request."""
    _not_predefined(role_name)
    permissions = check_permissions(body.permissions)
    new_name = check_name(body.name) if body.name is not None else None
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        row = _role(session, org_id, role_name)
        old_name = row.name
        if new_name is not None and new_name != old_name:
            _taken(session, org_id, new_name, but=row.id)
            workspaces = select(models.Workspace.id).where(models.Workspace.org_id == org_id)
            session.execute(
                update(models.WorkspaceParticipant)
                .where(
                    models.WorkspaceParticipant.workspace_id.in_(workspaces),
                    models.WorkspaceParticipant.role == old_name,
                )
                .values(role=new_name)
            )
            row.name = new_name
        row.description = body.description.strip()
        row.permissions = permissions


def delete_role(ctx: AppContext, principal: Principal, org_id: int, role_name: str) -> None:
    """Delete a custom role no participant holds (409 naming those that do)."""
    _not_predefined(role_name)
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        row = _role(session, org_id, role_name)
        holders = _holders(session, org_id, row.name)
        if holders:
            raise Conflict(
                f"Role '{row.name}' is held by {len(holders)} participant(s): "
                f"{', '.join(holders)}.",
                field="roleName",
                hint="Give them another role first (PUT .../participants/{participantId}/role).",
            )
        session.delete(row)
