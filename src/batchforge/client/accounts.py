"""Client of the accounts API: users, organizations, members, workspaces, teams, participants.

Composition over :class:`batchforge.client.BatchforgeClient` (its ``request``): ``AccountsApi(
client).list_orgs()``.  Names are resolved to ids here (``org_id("default")``,
``workspace_ref("default/lab")``), as ``tw`` does, so commands take names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batchforge.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient


class AccountsApi:
    """The accounts endpoints, returning the JSON bodies (Seqera's shapes)."""

    def __init__(self, client: BatchforgeClient) -> None:
        self.client = client

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, workspace=False, **kwargs)
        return response.json() if response.content else None

    # --- users ------------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        return dict(self._call("GET", "/user-info")["user"])

    def list_users(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/users")["users"])

    def add_user(self, name: str, email: str | None) -> dict[str, Any]:
        return dict(self._call("POST", "/users", json={"userName": name, "email": email}))

    def user_id(self, name: str) -> int:
        for user in self.list_users():
            if user["userName"] == name or str(user["id"]) == name:
                return int(user["id"])
        raise NotFound(f"No user named '{name}'.", field="userName")

    def set_user_disabled(self, user_id: int, disabled: bool) -> None:
        self._call("PUT", f"/users/{user_id}/state", json={"disabled": disabled})

    def delete_user(self, user_id: int) -> None:
        self._call("DELETE", f"/users/{user_id}")

    def workspaces_of(self, user_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/user/{user_id}/workspaces")["orgsAndWorkspaces"])

    # --- organizations and members -----------------------------------------------------------

    def list_orgs(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/orgs")["organizations"])

    def add_org(self, name: str, full_name: str, **extra: str | None) -> dict[str, Any]:
        """Create an organization; ``extra``: Seqera's description, location, website."""
        fields = {k: v for k, v in extra.items() if v is not None}
        body = {"organization": {"name": name, "fullName": full_name, **fields}}
        return dict(self._call("POST", "/orgs", json=body)["organization"])

    def describe_org(self, org_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/orgs/{org_id}")["organization"])

    def update_org(self, org_id: int, **fields: str | None) -> None:
        """PUT /orgs/{id} with Seqera's fields (name, fullName, description, ...)."""
        self._call(
            "PUT", f"/orgs/{org_id}", json={k: v for k, v in fields.items() if v is not None}
        )

    def leave_org(self, org_id: int) -> None:
        self._call("DELETE", f"/orgs/{org_id}/members/leave")

    def org_id(self, name: str) -> int:
        for org in self.list_orgs():
            if org["name"] == name or str(org["orgId"]) == name:
                return int(org["orgId"])
        raise NotFound(f"No organization named '{name}' of yours.", field="organization")

    def delete_org(self, org_id: int) -> None:
        self._call("DELETE", f"/orgs/{org_id}")

    def list_members(self, org_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/orgs/{org_id}/members")["members"])

    def list_collaborators(self, org_id: int) -> list[dict[str, Any]]:
        """Seqera's ListOrganizationCollaborators: users in the organization's workspaces
        who are not its members."""
        return list(self._call("GET", f"/orgs/{org_id}/collaborators")["members"])

    def member_id(self, org_id: int, user: str) -> int:
        for member in self.list_members(org_id):
            if user in (member["userName"], member["email"], str(member["memberId"])):
                return int(member["memberId"])
        raise NotFound(f"'{user}' is not a member of this organization.", field="user")

    def add_member(self, org_id: int, user: str) -> dict[str, Any]:
        return dict(self._call("PUT", f"/orgs/{org_id}/members/add", json={"user": user})["member"])

    def delete_member(self, org_id: int, member_id: int) -> None:
        self._call("DELETE", f"/orgs/{org_id}/members/{member_id}")

    def set_member_role(self, org_id: int, member_id: int, role: str) -> None:
        self._call("PUT", f"/orgs/{org_id}/members/{member_id}/role", json={"role": role})

    # --- workspaces --------------------------------------------------------------------------

    def list_workspaces(self, org_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/orgs/{org_id}/workspaces")["workspaces"])

    def add_workspace(
        self, org_id: int, name: str, full_name: str, **extra: str | None
    ) -> dict[str, Any]:
        """Create a workspace; ``extra``: Seqera's description, visibility."""
        fields = {k: v for k, v in extra.items() if v is not None}
        body = {"workspace": {"name": name, "fullName": full_name, **fields}}
        return dict(self._call("POST", f"/orgs/{org_id}/workspaces", json=body)["workspace"])

    def describe_workspace(self, org_id: int, workspace_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/orgs/{org_id}/workspaces/{workspace_id}")["workspace"])

    def update_workspace(self, org_id: int, workspace_id: int, **fields: str | None) -> None:
        """PUT the workspace with Seqera's fields (name, fullName, description, ...)."""
        body = {k: v for k, v in fields.items() if v is not None}
        self._call("PUT", f"/orgs/{org_id}/workspaces/{workspace_id}", json=body)

    def delete_workspace(self, org_id: int, workspace_id: int) -> None:
        self._call("DELETE", f"/orgs/{org_id}/workspaces/{workspace_id}")

    def workspace_ref(self, ref: str) -> tuple[int, int]:
        """``(org id, workspace id)`` of ``ref``: a workspace id or ``Org/Workspace``."""
        entries = [e for e in self.workspaces_of(int(self.me()["id"])) if e.get("workspaceId")]
        if ref.isdigit():
            found = [e for e in entries if str(e["workspaceId"]) == ref]
        else:
            org, sep, name = ref.partition("/")
            if not sep or not org or not name:
                raise InvalidInput(
                    f"Workspace '{ref}' is neither an id nor 'Organization/Workspace'.",
                    field="workspace",
                )
            found = [e for e in entries if (e["orgName"], e["workspaceName"]) == (org, name)]
        if not found:
            raise NotFound(
                f"No workspace '{ref}' of yours.",
                field="workspace",
                hint="'batchforge workspaces list' shows yours.",
            )
        return int(found[0]["orgId"]), int(found[0]["workspaceId"])

    # --- teams -------------------------------------------------------------------------------

    def list_teams(self, org_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/orgs/{org_id}/teams")["teams"])

    def team_id(self, org_id: int, name: str) -> int:
        for team in self.list_teams(org_id):
            if team["name"] == name or str(team["teamId"]) == name:
                return int(team["teamId"])
        raise NotFound(f"No team named '{name}' in this organization.", field="team")

    def add_team(self, org_id: int, name: str, description: str) -> dict[str, Any]:
        body = {"team": {"name": name, "description": description}}
        return dict(self._call("POST", f"/orgs/{org_id}/teams", json=body)["team"])

    def delete_team(self, org_id: int, team_id: int) -> None:
        self._call("DELETE", f"/orgs/{org_id}/teams/{team_id}")

    def list_team_members(self, org_id: int, team_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/orgs/{org_id}/teams/{team_id}/members")["members"])

    def add_team_member(self, org_id: int, team_id: int, user: str) -> dict[str, Any]:
        path = f"/orgs/{org_id}/teams/{team_id}/members"
        return dict(self._call("POST", path, json={"userNameOrEmail": user})["member"])

    def delete_team_member(self, org_id: int, team_id: int, member_id: int) -> None:
        self._call("DELETE", f"/orgs/{org_id}/teams/{team_id}/members/{member_id}/delete")

    # --- participants ------------------------------------------------------------------------

    def _participants(self, org_id: int, workspace_id: int) -> str:
        return f"/orgs/{org_id}/workspaces/{workspace_id}/participants"

    def list_participants(self, org_id: int, workspace_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", self._participants(org_id, workspace_id))["participants"])

    def add_participant(
        self, org_id: int, workspace_id: int, *, user: str | None = None, team_id: int | None = None
    ) -> dict[str, Any]:
        body = {"teamId": team_id} if team_id is not None else {"userNameOrEmail": user}
        path = self._participants(org_id, workspace_id) + "/add"
        return dict(self._call("PUT", path, json=body)["participant"])

    def participant_id(self, org_id: int, workspace_id: int, name: str, kind: str) -> int:
        """The participant id of a member (user name or e-mail) or a team (its name)."""
        for item in self.list_participants(org_id, workspace_id):
            if item["type"] != kind:
                continue
            if name in (item.get("userName"), item.get("email"), item.get("teamName")):
                return int(item["participantId"])
        raise NotFound(f"'{name}' is not a participant of this workspace.", field="name")

    def set_participant_role(
        self, org_id: int, workspace_id: int, participant_id: int, role: str
    ) -> None:
        path = f"{self._participants(org_id, workspace_id)}/{participant_id}/role"
        self._call("PUT", path, json={"role": role})

    def delete_participant(self, org_id: int, workspace_id: int, participant_id: int) -> None:
        self._call("DELETE", f"{self._participants(org_id, workspace_id)}/{participant_id}")

    def leave_workspace(self, org_id: int, workspace_id: int) -> None:
        self._call("DELETE", self._participants(org_id, workspace_id))
