"""Workspace participants: organization members, collaborators or teams, each with a
workspace role.

A user added by name or e-mail who is not a member of the organization becomes one of its
*collaborators* (Seqera's organization role ``collaborator``, participant type
``COLLABORATOR``): it sees the workspaces it participates in and nothing else of the
organization (``services/orgs.py``); removing its last participation removes it.

A role is one of the six predefined ones or a custom role of the organization
(``services/roles.py``).  Owners and admins add, change and remove participants
(``workspace:write``); only an owner grants the ``owner`` role or changes an owner
(``workspace:admin``); a custom role is granted only by a caller holding each of its
permissions in the workspace; any participant may leave
(``workspace_self:delete``).  Guard (409, nothing written): a workspace keeps at least one
participant with the owner or admin role — so nobody demotes or removes the last admin,
themselves included.  A user's effective role is computed in
:func:`batchforge.services.accounts.effective_roles`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.errors import Conflict, InvalidInput, NotFound
from batchforge.schemas.accounts import AddParticipantRequest, ParticipantResponseDto
from batchforge.services import authz, broken_rows, roles
from batchforge.services.authz import Permission
from batchforge.services.context import AppContext, Principal
from batchforge.services.orgs import (
    COLLABORATOR,
    drop_idle_collaborators,
    find_user,
    membership,
)
from batchforge.services.workspaces import workspace_in_org

DEFAULT_ROLE = "launch"
ADMIN_ROLES = ("owner", "admin")


def _dto(session: Session, participant: models.WorkspaceParticipant) -> ParticipantResponseDto:
    if participant.team_id is not None:
        team = session.get(models.Team, participant.team_id)
        assert team is not None  # foreign key
        return ParticipantResponseDto(
            participantId=participant.id,
            type="TEAM",
            wspRole=participant.role,  # type: ignore[arg-type]
            teamId=team.id,
            teamName=team.name,
        )
    member = session.get(models.OrgMember, participant.member_id)
    assert member is not None  # foreign key
    user = session.get(models.User, member.user_id)
    assert user is not None
    return ParticipantResponseDto(
        participantId=participant.id,
        type="COLLABORATOR" if member.role == COLLABORATOR else "MEMBER",
        wspRole=participant.role,  # type: ignore[arg-type]
        memberId=member.id,
        userName=user.user_name,
        email=user.email,
        orgRole=member.role,  # type: ignore[arg-type]
    )


def list_participants(
    ctx: AppContext, principal: Principal, org_id: int, workspace_id: int
) -> list[ParticipantResponseDto]:
    """The workspace's participants; one whose rows cannot be read is listed as broken."""
    with ctx.db.transaction() as session:
        workspace_in_org(session, principal, org_id, workspace_id, Permission.WORKSPACE_READ)
    query = (
        select(models.WorkspaceParticipant)
        .where(models.WorkspaceParticipant.workspace_id == workspace_id)
        .order_by(models.WorkspaceParticipant.id)
    )
    found = broken_rows.rows(ctx, query, models.WorkspaceParticipant.id)

    def dto(row: models.WorkspaceParticipant) -> ParticipantResponseDto:
        with ctx.db.transaction() as session:
            return _dto(session, row)

    def broken(participant_id: int, reason: str) -> ParticipantResponseDto:
        text = broken_rows.message(
            "participant",
            participant_id,
            reason,
            "",
            f"DELETE /orgs/{org_id}/workspaces/{workspace_id}/participants/{participant_id}",
        )
        return ParticipantResponseDto(
            participantId=participant_id,
            type="MEMBER",
            wspRole="view",
            userName=broken_rows.BROKEN_NAME,
            email=text,
        )

    return broken_rows.each(found, dto, broken, "participant")


def _lock(session: Session, workspace_id: int) -> None:
    """Queue concurrent participant changes of one workspace (the guard reads, then writes)."""
    session.execute(
        select(models.Workspace.id).where(models.Workspace.id == workspace_id).with_for_update()
    )


def add_participant(
    ctx: AppContext,
    principal: Principal,
    org_id: int,
    workspace_id: int,
    body: AddParticipantRequest,
    role: str = DEFAULT_ROLE,
) -> ParticipantResponseDto:
    """Add a member or collaborator (by ``memberId`` or ``userNameOrEmail``: a user who is
    not a member becomes a collaborator) or a team (``teamId``)."""
    given = [f for f in ("memberId", "teamId", "userNameOrEmail") if getattr(body, f) is not None]
    if len(given) != 1:
        raise InvalidInput(
            "Give exactly one of memberId, teamId or userNameOrEmail.",
            field=given[1] if len(given) > 1 else "memberId",
        )
    with ctx.db.transaction() as session:
        workspace_in_org(session, principal, org_id, workspace_id, Permission.WORKSPACE_WRITE)
        role = _grantable(session, principal, org_id, workspace_id, role)
        _lock(session, workspace_id)
        participant = models.WorkspaceParticipant(workspace_id=workspace_id, role=role)
        if body.teamId is not None:
            team = session.get(models.Team, body.teamId)
            if team is None or team.org_id != org_id:
                raise NotFound(
                    f"Team {body.teamId} not found in this organization.", field="teamId"
                )
            participant.team_id = team.id
            column, value, label = (
                models.WorkspaceParticipant.team_id,
                team.id,
                f"team '{team.name}'",
            )
        else:
            member = _member(session, org_id, body)
            participant.member_id = member.id
            column, value, label = models.WorkspaceParticipant.member_id, member.id, "member"
        exists = session.scalars(
            select(models.WorkspaceParticipant.id).where(
                models.WorkspaceParticipant.workspace_id == workspace_id, column == value
            )
        ).first()
        if exists is not None:
            raise Conflict(f"That {label} already participates in this workspace.", field=given[0])
        session.add(participant)
        session.flush()
        return _dto(session, participant)


def _member(session: Session, org_id: int, body: AddParticipantRequest) -> models.OrgMember:
    if body.memberId is not None:
        member = session.get(models.OrgMember, body.memberId)
        if member is None or member.org_id != org_id:
            raise NotFound(
                f"Member {body.memberId} not found in this organization.", field="memberId"
            )
        return member
    assert body.userNameOrEmail is not None
    user = find_user(session, body.userNameOrEmail, "userNameOrEmail")
    found = membership(session, org_id, user.id, collaborators=True)
    if found is None:  # not a member: a collaborator of the organization from now on
        found = models.OrgMember(org_id=org_id, user_id=user.id, role=COLLABORATOR)
        session.add(found)
        session.flush()
    return found


def _participant(
    session: Session, workspace_id: int, participant_id: int
) -> models.WorkspaceParticipant:
    participant = session.get(models.WorkspaceParticipant, participant_id)
    if participant is None or participant.workspace_id != workspace_id:
        raise NotFound(
            f"Participant {participant_id} not found in this workspace.", field="participantId"
        )
    return participant


def _keep_an_admin(session: Session, participant: models.WorkspaceParticipant, what: str) -> None:
    """409 when ``participant`` is the workspace's last owner/admin participant (a team counts
    when it has members)."""
    if participant.role not in ADMIN_ROLES:
        return
    others = select(models.WorkspaceParticipant).where(
        models.WorkspaceParticipant.workspace_id == participant.workspace_id,
        models.WorkspaceParticipant.id != participant.id,
        models.WorkspaceParticipant.role.in_(ADMIN_ROLES),
    )
    for other in session.scalars(others):
        if other.member_id is not None:
            return
        members = session.scalar(
            select(func.count()).where(models.TeamMember.team_id == other.team_id)
        )
        if members:
            return
    raise Conflict(
        f"Cannot {what} the last owner or admin of the workspace.",
        field="participantId",
        hint="Give another participant the owner or admin role first.",
    )


def keep_admins_without(
    session: Session, *, member_id: int | None = None, team_id: int | None = None
) -> None:
    """409 when removing org member ``member_id`` or team ``team_id`` (and with it all its
    participations) would leave a workspace without an owner/admin participant."""
    column = (
        models.WorkspaceParticipant.member_id
        if member_id is not None
        else models.WorkspaceParticipant.team_id
    )
    wanted = member_id if member_id is not None else team_id
    for participant in session.scalars(select(models.WorkspaceParticipant).where(column == wanted)):
        _keep_an_admin(session, participant, "remove")


def _needed_to_grant(role: str, custom: frozenset[Permission]) -> list[Permission]:
    """What a caller must hold to give ``role`` (as stored): ``owner`` needs
    ``workspace:admin``; a custom role needs every permission it holds (``custom``), so no one
    grants more than they have; the other predefined roles need nothing more than the right to
    manage participants."""
    if role == "owner":
        return [Permission.WORKSPACE_ADMIN]
    if role in authz.ROLES:
        return []
    return sorted(custom)


def _grantable(
    session: Session, principal: Principal, org_id: int, workspace_id: int, role: str
) -> str:
    """``role`` as stored (:func:`roles.resolve_role`: a predefined role or a custom role of
    the organization; 400 naming ``role`` otherwise), when the caller may give it
    (:func:`_needed_to_grant`; 403 naming the first permission missing)."""
    role = roles.resolve_role(session, org_id, role)
    custom = roles.custom_permissions(session, org_id, role)
    for wanted in _needed_to_grant(role, custom):
        authz.require(principal, workspace_id, wanted)
    return role


def grantable_roles(
    ctx: AppContext, principal: Principal, org_id: int, workspace_id: int
) -> list[str]:
    """The roles ``principal`` may give in ``workspace_id`` (for role pickers): the predefined
    ones, then the organization's custom roles by name, each only when :func:`_grantable`
    would let it through."""
    with ctx.db.transaction() as session:
        custom = roles.custom_roles_by_name(session, org_id)
    offered = [*((role, frozenset[Permission]()) for role in authz.ROLES), *custom.items()]
    return [
        role
        for role, permissions in offered
        if all(
            authz.holds(principal, workspace_id, wanted)
            for wanted in _needed_to_grant(role, permissions)
        )
    ]


def set_role(
    ctx: AppContext,
    principal: Principal,
    org_id: int,
    workspace_id: int,
    participant_id: int,
    role: str,
) -> None:
    """Give participant ``participant_id`` ``role``: a predefined role (any case) or a
    custom role of the organization (:func:`_grantable`)."""
    with ctx.db.transaction() as session:
        workspace_in_org(session, principal, org_id, workspace_id, Permission.WORKSPACE_WRITE)
        role = _grantable(session, principal, org_id, workspace_id, role)
        _lock(session, workspace_id)
        participant = _participant(session, workspace_id, participant_id)
        if "owner" in (role, participant.role):
            authz.require(principal, workspace_id, Permission.WORKSPACE_ADMIN)
        if role not in ADMIN_ROLES:
            _keep_an_admin(session, participant, "demote")
        participant.role = role


def remove_participant(
    ctx: AppContext, principal: Principal, org_id: int, workspace_id: int, participant_id: int
) -> None:
    with ctx.db.transaction() as session:
        workspace_in_org(session, principal, org_id, workspace_id, Permission.WORKSPACE_WRITE)
        _lock(session, workspace_id)
        participant = _participant(session, workspace_id, participant_id)
        if participant.role == "owner":
            authz.require(principal, workspace_id, Permission.WORKSPACE_ADMIN)
        _keep_an_admin(session, participant, "remove")
        session.delete(participant)
        drop_idle_collaborators(session, org_id)


def leave_workspace(ctx: AppContext, principal: Principal, org_id: int, workspace_id: int) -> None:
    """The caller stops being a direct participant (team roles and org ownership remain)."""
    with ctx.db.transaction() as session:
        workspace_in_org(session, principal, org_id, workspace_id, Permission.WORKSPACE_SELF_DELETE)
        _lock(session, workspace_id)
        participant = session.scalars(
            select(models.WorkspaceParticipant)
            .join(models.OrgMember, models.OrgMember.id == models.WorkspaceParticipant.member_id)
            .where(
                models.WorkspaceParticipant.workspace_id == workspace_id,
                models.OrgMember.user_id == principal.user_id,
            )
        ).first()
        if participant is None:
            raise NotFound(
                "You are not a direct participant of this workspace.", field="workspaceId"
            )
        _keep_an_admin(session, participant, "leave as")
        session.delete(participant)
        drop_idle_collaborators(session, org_id)
