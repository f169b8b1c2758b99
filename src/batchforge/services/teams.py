"""An organization's teams and their members (Seqera's ``/orgs/{orgId}/teams``).

Members of the organization read its teams; its owners create, change and delete them and
manage their members.  A team that is a workspace's last owner/admin participant is not
deleted nor emptied (409).  A team member must be a member of the organization (404 naming
``userNameOrEmail`` otherwise); a team name is unique in its organization (409).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.errors import Conflict, NotFound
from batchforge.schemas.accounts import MemberDbDto, TeamDbDto, UpdateTeamRequest
from batchforge.services import broken_rows, participants
from batchforge.services.context import AppContext, Principal
from batchforge.services.orgs import (
    broken_member,
    find_user,
    member_dto,
    membership,
    org_in_reach,
    require_org_owner,
)


def _dto(session: Session, team: models.Team) -> TeamDbDto:
    count = session.scalar(select(func.count()).where(models.TeamMember.team_id == team.id))
    return TeamDbDto(
        teamId=team.id, name=team.name, description=team.description, membersCount=count or 0
    )


def _team(session: Session, org_id: int, team_id: int) -> models.Team:
    team = session.get(models.Team, team_id)
    if team is None or team.org_id != org_id:
        raise NotFound(f"Team {team_id} not found in this organization.", field="teamId")
    return team


def _name_taken(session: Session, org_id: int, name: str) -> None:
    taken = session.scalars(
        select(models.Team.id).where(models.Team.org_id == org_id, models.Team.name == name)
    ).first()
    if taken is not None:
        raise Conflict(f"A team named '{name}' already exists in this organization.", field="name")


def validate_name(ctx: AppContext, principal: Principal, org_id: int, name: str) -> None:
    """409 when a team of ``org_id`` (one of the caller's) already has ``name``."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id)
        _name_taken(session, org_id, name)


def list_teams(ctx: AppContext, principal: Principal, org_id: int) -> list[TeamDbDto]:
    """The organization's teams; one whose row cannot be read is listed as broken."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id)
    query = select(models.Team).where(models.Team.org_id == org_id).order_by(models.Team.name)
    found = broken_rows.rows(ctx, query, models.Team.id)

    def dto(team: models.Team) -> TeamDbDto:
        with ctx.db.transaction() as session:
            return _dto(session, team)

    return broken_rows.each(found, dto, _broken(org_id), "team")


def _broken(org_id: int) -> Callable[[int, str], TeamDbDto]:
    """How a team whose row cannot be read is shown (see :mod:`broken_rows`)."""

    def dto(team_id: int, reason: str) -> TeamDbDto:
        text = broken_rows.message(
            "team",
            team_id,
            reason,
            f"batchforge teams delete -i {team_id} --organization {org_id}",
            f"DELETE /orgs/{org_id}/teams/{team_id}",
        )
        return TeamDbDto(
            teamId=team_id, name=broken_rows.BROKEN_NAME, description=text, membersCount=0
        )

    return dto


def describe_team(ctx: AppContext, principal: Principal, org_id: int, team_id: int) -> TeamDbDto:
    """The team; one whose row cannot be read is described as broken."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id)
    query = select(models.Team).where(models.Team.id == team_id, models.Team.org_id == org_id)
    row = broken_rows.load(ctx, query, models.Team.id)
    if row is None:
        raise NotFound(f"Team {team_id} not found in this organization.", field="teamId")

    def dto(team: models.Team) -> TeamDbDto:
        with ctx.db.transaction() as session:
            return _dto(session, team)

    (shown,) = broken_rows.each([row], dto, _broken(org_id), "team")
    return shown


def create_team(
    ctx: AppContext, principal: Principal, org_id: int, name: str, description: str
) -> TeamDbDto:
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        _name_taken(session, org_id, name)
        team = models.Team(org_id=org_id, name=name, description=description)
        session.add(team)
        session.flush()
        return _dto(session, team)


def update_team(
    ctx: AppContext, principal: Principal, org_id: int, team_id: int, body: UpdateTeamRequest
) -> None:
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        team = _team(session, org_id, team_id)
        if body.name is not None and body.name != team.name:
            _name_taken(session, org_id, body.name)
            team.name = body.name
        if body.description is not None:
            team.description = body.description


def delete_team(ctx: AppContext, principal: Principal, org_id: int, team_id: int) -> None:
    """Delete a team: its memberships and workspace participations go with it."""
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        # By columns: a team whose row cannot be read goes too.
        exists = select(models.Team.id).where(
            models.Team.id == team_id, models.Team.org_id == org_id
        )
        if session.scalar(exists) is None:
            raise NotFound(f"Team {team_id} not found in this organization.", field="teamId")
        participants.keep_admins_without(session, team_id=team_id)
        session.execute(sql_delete(models.Team).where(models.Team.id == team_id))


def list_team_members(
    ctx: AppContext, principal: Principal, org_id: int, team_id: int
) -> list[MemberDbDto]:
    """The team's members; one whose rows cannot be read is listed as broken."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id)
        _team(session, org_id, team_id)
    query = (
        select(models.OrgMember, models.User)
        .join(models.TeamMember, models.TeamMember.member_id == models.OrgMember.id)
        .join(models.User, models.User.id == models.OrgMember.user_id)
        .where(models.TeamMember.team_id == team_id)
        .order_by(models.User.user_name)
    )
    found = broken_rows.rows(ctx, query, models.OrgMember.id, scalars=False)
    return broken_rows.each(found, lambda row: member_dto(*row), broken_member(org_id), "member")


def add_team_member(
    ctx: AppContext, principal: Principal, org_id: int, team_id: int, name_or_email: str
) -> MemberDbDto:
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id)
        team = _team(session, org_id, team_id)
        user = find_user(session, name_or_email, "userNameOrEmail")
        member = membership(session, org_id, user.id)
        if member is None:
            raise NotFound(
                f"'{user.user_name}' is not a member of this organization.",
                field="userNameOrEmail",
                hint="Add the user to the organization first (batchforge members add).",
            )
        if session.get(models.TeamMember, (team.id, member.id)) is not None:
            raise Conflict(
                f"'{user.user_name}' is already in team '{team.name}'.", field="userNameOrEmail"
            )
        session.add(models.TeamMember(team_id=team.id, member_id=member.id))
        return member_dto(member, user)


def remove_team_member(
    ctx: AppContext, principal: Principal, org_id: int, team_id: int, member_id: int
) -> None:
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        _team(session, org_id, team_id)
        row = session.get(models.TeamMember, (team_id, member_id))
        if row is None:
            raise NotFound(f"Member {member_id} is not in this team.", field="memberId")
        if _dto(session, _team(session, org_id, team_id)).membersCount == 1:
            # The team's last member: an admin role it holds would then count for no one.
            participants.keep_admins_without(session, team_id=team_id)
        session.delete(row)
