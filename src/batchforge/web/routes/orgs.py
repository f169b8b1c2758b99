"""An organization's settings page (``/ui/orgs/{org_id}``): its members with their
organization role, its teams and their members.

Any member reads the page; only an owner changes it — add or remove a member, change a
member's role, create or delete a team, add or remove a team member.  The services decide
(:mod:`batchforge.services.orgs`: 404 for an organization the viewer is not in, 403 for a
member who is not an owner, 409 for the guard rules); the page shows an owner's controls to
owners only.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from batchforge.errors import BatchforgeError, InvalidInput
from batchforge.schemas.accounts import Team
from batchforge.services import orgs, teams
from batchforge.services.broken_rows import BROKEN_NAME
from batchforge.web import render
from batchforge.web.core import CheckedForm, CurrentViewer, WebRoute, app_ctx, redirect_with

router = APIRouter(prefix="/ui/orgs", route_class=WebRoute, include_in_schema=False)

ORG_ROLES = ("owner", "member")


def _back(org_id: int) -> str:
    return f"/ui/orgs/{org_id}"


@router.get("/{org_id}")
def org_settings(request: Request, org_id: int, viewer: CurrentViewer) -> Response:
    ctx = app_ctx(request)
    org = orgs.describe_org(ctx, viewer.principal, org_id)
    org_teams = teams.list_teams(ctx, viewer.principal, org_id)
    team_members = {  # a team whose row cannot be read is shown as broken, without members
        t.teamId: []
        if t.name == BROKEN_NAME
        else teams.list_team_members(ctx, viewer.principal, org_id, t.teamId)
        for t in org_teams
    }
    return render.page(
        request,
        "org_settings.html",
        title=f"Organization {org.name}",
        section="org",
        org=org,
        members=orgs.list_members(ctx, viewer.principal, org_id),
        teams=org_teams,
        team_members=team_members,
        org_roles=ORG_ROLES,
        is_owner=viewer.principal.org_roles.get(org_id) == "owner",
        user_name=viewer.principal.user_name,
    )


def _done(request: Request, org_id: int, action: Callable[[], str]) -> Response:
    """Run ``action`` (a thunk returning the notice), redirect back with it or the error."""
    try:
        text = action()
    except BatchforgeError as problem:
        return redirect_with(request, _back(org_id), problem.message, "error")
    return redirect_with(request, _back(org_id), text)


def _text(form: CheckedForm, name: str, label: str) -> str:
    value = str(form.get(name) or "").strip()
    if not value:
        raise InvalidInput(f"{label} is required.", field=name)
    return value


@router.post("/{org_id}/members")
def add_member(request: Request, org_id: int, viewer: CurrentViewer, form: CheckedForm) -> Response:
    def act() -> str:
        who = _text(form, "user", "A user name or e-mail")
        added = orgs.add_member(app_ctx(request), viewer.principal, org_id, who)
        return f"'{added.userName}' added to the organization as member."

    return _done(request, org_id, act)


@router.post("/{org_id}/members/{member_id}/role")
def set_member_role(
    request: Request, org_id: int, member_id: int, viewer: CurrentViewer, form: CheckedForm
) -> Response:
    def act() -> str:
        role = str(form.get("role") or "")
        if role not in ORG_ROLES:
            raise InvalidInput(f"Role '{role}' is not one of owner, member.", field="role")
        orgs.set_member_role(app_ctx(request), viewer.principal, org_id, member_id, role)
        return f"Organization role changed to {role}."

    return _done(request, org_id, act)


@router.post("/{org_id}/members/{member_id}/delete")
def remove_member(
    request: Request, org_id: int, member_id: int, viewer: CurrentViewer, form: CheckedForm
) -> Response:
    def act() -> str:
        orgs.remove_member(app_ctx(request), viewer.principal, org_id, member_id)
        return "Member removed from the organization."

    return _done(request, org_id, act)


@router.post("/{org_id}/teams")
def create_team(
    request: Request, org_id: int, viewer: CurrentViewer, form: CheckedForm
) -> Response:
    def act() -> str:
        name = _text(form, "name", "A team name")
        try:
            team = Team(name=name, description=str(form.get("description") or "").strip())
        except ValidationError as problem:
            where = str(problem.errors()[0]["loc"][0])
            raise InvalidInput(
                f"The team {where} is not valid: {problem.errors()[0]['msg']}.", field=where
            ) from None
        teams.create_team(app_ctx(request), viewer.principal, org_id, team.name, team.description)
        return f"Team '{team.name}' created."

    return _done(request, org_id, act)


@router.post("/{org_id}/teams/{team_id}/delete")
def delete_team(
    request: Request, org_id: int, team_id: int, viewer: CurrentViewer, form: CheckedForm
) -> Response:
    def act() -> str:
        teams.delete_team(app_ctx(request), viewer.principal, org_id, team_id)
        return "Team deleted."

    return _done(request, org_id, act)


@router.post("/{org_id}/teams/{team_id}/members")
def add_team_member(
    request: Request, org_id: int, team_id: int, viewer: CurrentViewer, form: CheckedForm
) -> Response:
    def act() -> str:
        who = _text(form, "userNameOrEmail", "A user name or e-mail")
        added = teams.add_team_member(app_ctx(request), viewer.principal, org_id, team_id, who)
        return f"'{added.userName}' added to the team."

    return _done(request, org_id, act)


@router.post("/{org_id}/teams/{team_id}/members/{member_id}/delete")
def remove_team_member(
    request: Request,
    org_id: int,
    team_id: int,
    member_id: int,
    viewer: CurrentViewer,
    form: CheckedForm,
) -> Response:
    def act() -> str:
        teams.remove_team_member(app_ctx(request), viewer.principal, org_id, team_id, member_id)
        return "Member removed from the team."

    return _done(request, org_id, act)
