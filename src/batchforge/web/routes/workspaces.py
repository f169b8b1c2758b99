"""The workspace switcher and the workspace's settings page (``/ui/workspace``): its
participants — organization members and teams — with their roles; add one, change a role,
remove one, leave the workspace.

Who may do what is :mod:`batchforge.services.authz`'s decision: the page needs
``workspace:read``, the participant forms ``workspace:write`` (the services also apply
``workspace:admin`` for the owner role and the last-admin guard), leaving
``workspace_self:delete``.  The page shows only the controls the viewer's role allows; a form
POSTed anyway is refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from batchforge.errors import BatchforgeError, InvalidInput, NotFound
from batchforge.schemas.accounts import AddParticipantRequest
from batchforge.services import authz, participants, teams
from batchforge.services.authz import ROLES, Permission
from batchforge.web import render
from batchforge.web.core import (
    WORKSPACE_COOKIE,
    CheckedForm,
    CurrentViewer,
    Viewer,
    WebRoute,
    app_ctx,
    id_number,
    keep_workspace,
    redirect_with,
    safe_next,
    viewer_needs,
)

router = APIRouter(prefix="/ui/workspace", route_class=WebRoute, include_in_schema=False)

CanRead = Annotated[Viewer, Depends(viewer_needs(Permission.WORKSPACE_READ))]
CanWrite = Annotated[Viewer, Depends(viewer_needs(Permission.WORKSPACE_WRITE))]
CanLeave = Annotated[Viewer, Depends(viewer_needs(Permission.WORKSPACE_SELF_DELETE))]

PAGE = "/ui/workspace"


def _org_id(viewer: Viewer) -> int:
    entry = viewer.workspace
    if entry is None:  # authz let the viewer in, so the list has it; a race with a removal
        raise NotFound(f"Workspace {viewer.workspace_id} not found.", field="workspaceId")
    return entry.orgId


def _role(form: CheckedForm, default: str) -> str:
    """The chosen role: a predefined one or a custom role (``participants`` checks it)."""
    role = str(form.get("role") or default).strip()
    if not role:
        raise InvalidInput(f"Choose a role: {', '.join(ROLES)} or a custom role.", field="role")
    return role


@router.post("/switch")
def switch_workspace(request: Request, viewer: CurrentViewer, form: CheckedForm) -> Response:
    """Act in another of the viewer's workspaces from now on (kept in a cookie)."""
    given = id_number(str(form.get("workspaceId") or ""))
    chosen = next((w for w in viewer.workspaces if w.workspaceId == given), None)
    if given is None or chosen is None:
        raise NotFound("That workspace was not found.", field="workspaceId")
    target = safe_next(str(form.get("next") or "/"))
    response = redirect_with(
        request, target, f"Now working in {chosen.orgName} / {chosen.workspaceName}."
    )
    keep_workspace(request, response, given)
    return response


@router.get("")
def workspace_settings(request: Request, viewer: CanRead) -> Response:
    ctx = app_ctx(request)
    org_id = _org_id(viewer)
    role = viewer.principal.roles[viewer.workspace_id]
    listed = participants.list_participants(ctx, viewer.principal, org_id, viewer.workspace_id)
    known = {p.teamId for p in listed if p.teamId is not None}
    org_teams = teams.list_teams(ctx, viewer.principal, org_id)
    can_admin = authz.holds(viewer.principal, viewer.workspace_id, Permission.WORKSPACE_ADMIN)
    grantable = participants.grantable_roles(ctx, viewer.principal, org_id, viewer.workspace_id)
    return render.page(
        request,
        "workspace_settings.html",
        title=f"Workspace {viewer.workspace.workspaceName if viewer.workspace else ''}",
        section="workspace",
        entry=viewer.workspace,
        role=role,
        participants=listed,
        teams=[t for t in org_teams if t.teamId not in known],
        roles=ROLES,
        grantable=grantable,
        can_write=authz.holds(viewer.principal, viewer.workspace_id, Permission.WORKSPACE_WRITE),
        can_admin=can_admin,
        user_name=viewer.principal.user_name,
    )


@router.post("/participants")
def add_participant(request: Request, viewer: CanWrite, form: CheckedForm) -> Response:
    who = str(form.get("userNameOrEmail") or "").strip()
    team = str(form.get("teamId") or "").strip()
    try:
        role = _role(form, participants.DEFAULT_ROLE)
        if bool(who) == bool(team):
            raise InvalidInput(
                "Give a member's user name or e-mail, or choose a team (one of them).",
                field="userNameOrEmail",
            )
        try:
            body = AddParticipantRequest(userNameOrEmail=who or None, teamId=id_number(team))
        except ValidationError:
            raise InvalidInput(
                "The user name or e-mail is too long.", field="userNameOrEmail"
            ) from None
        if team and body.teamId is None:
            raise InvalidInput("Choose a team from the list.", field="teamId")
        added = participants.add_participant(
            app_ctx(request), viewer.principal, _org_id(viewer), viewer.workspace_id, body, role
        )
    except BatchforgeError as problem:
        return redirect_with(request, PAGE, problem.message, "error")
    name = added.teamName if added.type == "TEAM" else added.userName
    return redirect_with(request, PAGE, f"'{name}' added to the workspace as {role}.")


@router.post("/participants/{participant_id}/role")
def set_participant_role(
    request: Request, participant_id: int, viewer: CanWrite, form: CheckedForm
) -> Response:
    try:
        role = _role(form, "")
        participants.set_role(
            app_ctx(request),
            viewer.principal,
            _org_id(viewer),
            viewer.workspace_id,
            participant_id,
            role,
        )
    except BatchforgeError as problem:
        return redirect_with(request, PAGE, problem.message, "error")
    return redirect_with(request, PAGE, f"Role changed to {role}.")


@router.post("/participants/{participant_id}/delete")
def remove_participant(
    request: Request, participant_id: int, viewer: CanWrite, form: CheckedForm
) -> Response:
    try:
        participants.remove_participant(
            app_ctx(request), viewer.principal, _org_id(viewer), viewer.workspace_id, participant_id
        )
    except BatchforgeError as problem:
        return redirect_with(request, PAGE, problem.message, "error")
    return redirect_with(request, PAGE, "Participant removed from the workspace.")


@router.post("/leave")
def leave_workspace(request: Request, viewer: CanLeave, form: CheckedForm) -> Response:
    entry = viewer.workspace
    try:
        participants.leave_workspace(
            app_ctx(request), viewer.principal, _org_id(viewer), viewer.workspace_id
        )
    except BatchforgeError as problem:
        return redirect_with(request, PAGE, problem.message, "error")
    name = f"{entry.orgName} / {entry.workspaceName}" if entry else "the workspace"
    response = redirect_with(request, "/", f"You left {name}.")
    response.delete_cookie(WORKSPACE_COOKIE, path="/")
    return response
