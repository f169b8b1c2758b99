"""Organizations and their members (Seqera's ``/orgs`` and ``/orgs/{orgId}/members``).

Who may act: any user creates an organization (and becomes its owner); its members read it;
its owners change it, its members and its teams.  An organization the caller does not belong
to answers 404, as one that does not exist.  A *collaborator* (a user made a participant of
some of its workspaces without being a member, ``services/participants.py``) sees the
organization and the workspaces it participates in, nothing else: its members, collaborators
and teams answer 403 (Seqera's organization role ``collaborator``); it is listed by
``/orgs/{orgId}/collaborators``, never among the members.  Guard rules, each a 409 naming the
rule, nothing written: an organization keeps at least one owner (no removing, demoting or
leaving as the last one); a member who is a workspace's last owner/admin participant stays; an
organization with workspaces is not deleted; names are unique.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.errors import Conflict, Forbidden, NotFound
from batchforge.schemas.accounts import (
    MemberDbDto,
    OrganizationDbDto,
    UpdateOrganizationRequest,
)
from batchforge.services import broken_rows
from batchforge.services.context import AppContext, Principal

COLLABORATOR = "collaborator"
"""The organization role of a user who participates in some of its workspaces without being
a member."""


def org_in_reach(
    session: Session, principal: Principal, org_id: int, *, collaborators: bool = False
) -> models.Organization:
    """The organization ``org_id`` if the caller is one of its members, else 404; a
    collaborator of it gets 403 unless ``collaborators`` (what a collaborator may see).  One
    whose row cannot be read is a stand-in named :data:`broken_rows.BROKEN_NAME` (not in the
    session), so that its lists still answer and it can be deleted."""
    try:
        org = session.get(models.Organization, org_id)
    except Exception as error:
        if not session.scalar(
            select(models.Organization.id).where(models.Organization.id == org_id)
        ):
            raise
        reason = broken_rows.reason_of(error)
        org = models.Organization(id=org_id, name=broken_rows.BROKEN_NAME, full_name=reason)
    if org is None or org_id not in principal.org_roles:
        raise NotFound(f"Organization {org_id} not found.", field="orgId")
    if not collaborators and principal.org_roles[org_id] == COLLABORATOR:
        raise Forbidden(
            f"As a collaborator of organization '{org.name}' you see only the workspaces you "
            "participate in.",
            field="orgId",
            hint="An owner of the organization can add you as a member.",
        )
    return org


def require_org_owner(
    session: Session, principal: Principal, org_id: int, *, lock: bool = False
) -> models.Organization:
    """The organization, when the caller owns it: 404 for a non-member, 403 for a member.

    ``lock`` takes a row lock on it, so concurrent member changes of one organization queue
    (the last-owner rule reads, then writes)."""
    org = org_in_reach(session, principal, org_id)
    if principal.org_roles.get(org_id) != "owner":
        raise Forbidden(f"Only an owner of organization '{org.name}' may do this.", field="orgId")
    if lock:
        session.execute(
            select(models.Organization.id).where(models.Organization.id == org_id).with_for_update()
        )
    return org


def find_user(session: Session, name_or_email: str, field: str) -> models.User:
    """The user with that user name (or, failing that, e-mail); 404 naming ``field``."""
    user = (
        session.scalars(select(models.User).where(models.User.user_name == name_or_email)).first()
        or session.scalars(
            select(models.User).where(func.lower(models.User.email) == name_or_email.lower())
        ).first()
    )
    if user is None:
        raise NotFound(f"No user named '{name_or_email}'.", field=field)
    return user


def _org_dto(org: models.Organization, member: models.OrgMember | None) -> OrganizationDbDto:
    return OrganizationDbDto(
        orgId=org.id,
        name=org.name,
        fullName=org.full_name,
        memberId=member.id if member else None,
        memberRole=member.role if member else None,  # type: ignore[arg-type]
    )


def _name_taken(session: Session, name: str, but: int | None = None) -> None:
    query = select(models.Organization.id).where(models.Organization.name == name)
    if but is not None:
        query = query.where(models.Organization.id != but)
    if session.scalars(query).first() is not None:
        raise Conflict(f"An organization named '{name}' already exists.", field="name")


def create_org(
    ctx: AppContext, principal: Principal, name: str, full_name: str
) -> OrganizationDbDto:
    """A new organization owned by the caller."""
    with ctx.db.transaction() as session:
        _name_taken(session, name)
        org = models.Organization(name=name, full_name=full_name or name)
        session.add(org)
        session.flush()
        member = models.OrgMember(org_id=org.id, user_id=principal.user_id, role="owner")
        session.add(member)
        try:
            session.flush()
        except IntegrityError:  # a concurrent create of the same name
            raise Conflict(
                f"An organization named '{name}' already exists.", field="name"
            ) from None
        return _org_dto(org, member)


def validate_name(ctx: AppContext, name: str) -> None:
    """409 when an organization already has ``name``."""
    with ctx.db.transaction() as session:
        _name_taken(session, name)


def list_orgs(ctx: AppContext, principal: Principal) -> list[OrganizationDbDto]:
    """The organizations the caller belongs to, by name; one whose row cannot be read is
    listed as broken."""
    query = (
        select(models.Organization, models.OrgMember)
        .join(models.OrgMember, models.OrgMember.org_id == models.Organization.id)
        .where(models.OrgMember.user_id == principal.user_id)
        .order_by(models.Organization.name)
    )
    found = broken_rows.rows(ctx, query, models.Organization.id, scalars=False)
    return broken_rows.each(found, lambda row: _org_dto(*row), _broken_org, "organization")


def _broken_org(org_id: int, reason: str) -> OrganizationDbDto:
    """How an organization whose row cannot be read is shown (see :mod:`broken_rows`)."""
    text = broken_rows.message(
        "organization",
        org_id,
        reason,
        f"batchforge orgs delete -i {org_id}",
        f"DELETE /orgs/{org_id}",
    )
    return OrganizationDbDto(orgId=org_id, name=broken_rows.BROKEN_NAME, fullName=text)


def describe_org(ctx: AppContext, principal: Principal, org_id: int) -> OrganizationDbDto:
    """The organization; one whose row cannot be read is described as broken."""
    with ctx.db.transaction() as session:
        org = org_in_reach(session, principal, org_id, collaborators=True)
        if org.name == broken_rows.BROKEN_NAME and org not in session:
            return _broken_org(org_id, org.full_name)
        member = membership(session, org_id, principal.user_id, collaborators=True)
    return broken_rows.shown(
        org_id, lambda: _org_dto(org, member), lambda why: _broken_org(org_id, why)
    )


def org_by_name(ctx: AppContext, principal: Principal, name: str) -> OrganizationDbDto:
    """An organization of the caller by name (404 otherwise)."""
    with ctx.db.transaction() as session:
        org_id = session.scalars(
            select(models.Organization.id).where(models.Organization.name == name)
        ).first()
        if org_id is None or org_id not in principal.org_roles:
            raise NotFound(f"Organization '{name}' not found.", field="organization")
        org = org_in_reach(session, principal, org_id, collaborators=True)
        return _org_dto(org, membership(session, org_id, principal.user_id, collaborators=True))


def update_org(
    ctx: AppContext, principal: Principal, org_id: int, body: UpdateOrganizationRequest
) -> None:
    with ctx.db.transaction() as session:
        org = require_org_owner(session, principal, org_id)
        if body.name is not None and body.name != org.name:
            _name_taken(session, body.name, but=org_id)
            org.name = body.name
        if body.fullName is not None:
            org.full_name = body.fullName


def delete_org(ctx: AppContext, principal: Principal, org_id: int) -> None:
    """Delete an organization that has no workspace left (409 otherwise)."""
    with ctx.db.transaction() as session:
        org = require_org_owner(session, principal, org_id, lock=True)
        count = session.scalar(select(func.count()).where(models.Workspace.org_id == org_id))
        if count:
            raise Conflict(
                f"Organization '{org.name}' still has {count} workspace(s).",
                field="orgId",
                hint="Delete its workspaces first.",
            )
        # By columns: an organization whose row cannot be read goes too.
        session.execute(sql_delete(models.Organization).where(models.Organization.id == org_id))


def membership(
    session: Session, org_id: int, user_id: int, *, collaborators: bool = False
) -> models.OrgMember | None:
    """``user_id``'s membership of ``org_id``, if any (a collaborator's only when
    ``collaborators``)."""
    query = select(models.OrgMember).where(
        models.OrgMember.org_id == org_id, models.OrgMember.user_id == user_id
    )
    if not collaborators:
        query = query.where(models.OrgMember.role != COLLABORATOR)
    return session.scalars(query).first()


def member_dto(member: models.OrgMember, user: models.User) -> MemberDbDto:
    return MemberDbDto(
        memberId=member.id,
        userId=user.id,
        userName=user.user_name,
        email=user.email,
        role=member.role,  # type: ignore[arg-type]
    )


def list_members(
    ctx: AppContext,
    principal: Principal,
    org_id: int,
    search: str | None = None,
    collaborators: bool = False,
) -> list[MemberDbDto]:
    """The organization's members (``collaborators``: its collaborators instead, Seqera's
    ListOrganizationCollaborators), by user name; ``search`` in user name or e-mail.  Not for
    a collaborator (403).  A member whose role this version cannot read is listed (as broken),
    never silently left out."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id)
    query = (
        select(models.OrgMember, models.User)
        .join(models.User, models.User.id == models.OrgMember.user_id)
        .where(
            models.OrgMember.org_id == org_id,
            (models.OrgMember.role == "collaborator")
            if collaborators
            else (models.OrgMember.role != "collaborator"),
        )
        .order_by(models.User.user_name)
    )
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(
                func.lower(models.User.user_name).like(pattern),
                func.lower(models.User.email).like(pattern),
            )
        )
    found = broken_rows.rows(ctx, query, models.OrgMember.id, scalars=False)
    return broken_rows.each(found, lambda row: member_dto(*row), broken_member(org_id), "member")


def broken_member(org_id: int) -> Callable[[int, str], MemberDbDto]:
    """How a member whose rows cannot be read is shown (see :mod:`broken_rows`)."""

    def dto(member_id: int, reason: str) -> MemberDbDto:
        text = broken_rows.message(
            "member",
            member_id,
            reason,
            "",
            f"DELETE /orgs/{org_id}/members/{member_id}",
        )
        return MemberDbDto(
            memberId=member_id,
            userId=0,
            userName=broken_rows.BROKEN_NAME,
            email=text,
            role="member",
        )

    return dto


def add_member(
    ctx: AppContext, principal: Principal, org_id: int, name_or_email: str
) -> MemberDbDto:
    """Make a user a ``member`` of the organization (409 when it already is); a collaborator
    becomes a member, keeping its participations."""
    with ctx.db.transaction() as session:
        org = require_org_owner(session, principal, org_id)
        user = find_user(session, name_or_email, "user")
        found = membership(session, org_id, user.id, collaborators=True)
        if found is not None and found.role != COLLABORATOR:
            raise Conflict(f"'{user.user_name}' is already a member of '{org.name}'.", field="user")
        if found is not None:  # a collaborator becomes a member, participations kept
            found.role = "member"
            return member_dto(found, user)
        member = models.OrgMember(org_id=org_id, user_id=user.id, role="member")
        session.add(member)
        session.flush()
        return member_dto(member, user)


def _member(session: Session, org_id: int, member_id: int) -> models.OrgMember:
    member = session.get(models.OrgMember, member_id)
    if member is None or member.org_id != org_id:
        raise NotFound(f"Member {member_id} not found in this organization.", field="memberId")
    return member


def _keep_an_owner(session: Session, member: models.OrgMember, what: str) -> None:
    """409 when ``member`` is its organization's last owner (``what`` it was about to do)."""
    if member.role != "owner":
        return
    owners = session.scalar(
        select(func.count()).where(
            models.OrgMember.org_id == member.org_id, models.OrgMember.role == "owner"
        )
    )
    if owners <= 1:
        raise Conflict(
            f"Cannot {what} the last owner of the organization.",
            field="memberId",
            hint="Make another member an owner first.",
        )


def set_member_role(
    ctx: AppContext, principal: Principal, org_id: int, member_id: int, role: str
) -> None:
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        member = _member(session, org_id, member_id)
        if role != "owner":
            _keep_an_owner(session, member, "demote")
        member.role = role


def remove_member(ctx: AppContext, principal: Principal, org_id: int, member_id: int) -> None:
    """Remove a member: its team memberships and participations go with it."""
    with ctx.db.transaction() as session:
        require_org_owner(session, principal, org_id, lock=True)
        member = _member(session, org_id, member_id)
        _keep_an_owner(session, member, "remove")
        _keep_workspace_admins(session, member.id)
        session.delete(member)


def leave_org(ctx: AppContext, principal: Principal, org_id: int) -> None:
    """The caller leaves the organization (not as its last owner)."""
    with ctx.db.transaction() as session:
        org_in_reach(session, principal, org_id, collaborators=True)
        session.execute(
            select(models.Organization.id).where(models.Organization.id == org_id).with_for_update()
        )
        member = membership(session, org_id, principal.user_id, collaborators=True)
        assert member is not None  # org_in_reach: the caller is a member
        _keep_an_owner(session, member, "leave as")
        _keep_workspace_admins(session, member.id)
        session.delete(member)


def drop_idle_collaborators(session: Session, org_id: int) -> None:
    """Remove the collaborators of ``org_id`` left without any participation (Seqera: a
    collaborator exists through its workspaces)."""
    session.flush()
    idle = select(models.OrgMember.id).where(
        models.OrgMember.org_id == org_id,
        models.OrgMember.role == COLLABORATOR,
        ~select(models.WorkspaceParticipant.id)
        .where(models.WorkspaceParticipant.member_id == models.OrgMember.id)
        .exists(),
    )
    ids = list(session.scalars(idle))
    if ids:
        session.execute(sql_delete(models.OrgMember).where(models.OrgMember.id.in_(ids)))


def _keep_workspace_admins(session: Session, member_id: int) -> None:
    """A member leaving the org leaves its workspaces: not as one's last owner/admin."""
    from batchforge.services import participants  # it builds on this module

    participants.keep_admins_without(session, member_id=member_id)
