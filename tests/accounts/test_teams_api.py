"""Users, organizations, members, teams, workspaces and participants over real HTTP.

Seqera's paths and shapes (``seqera-api-cloud.yaml``: ``/orgs…``, ``/user/{userId}/workspaces``)
and its role rules (``seqera-workspace-roles.md``): an org owner is owner of every workspace of
the org; a participant's direct and team roles combine, the higher applies.  Guard rules answer
a 4xx naming the field, with nothing changed.
"""

from __future__ import annotations

from typing import Any

from tests.accounts.conftest import As


def _user(admin: As, user_as: Any, name: str) -> tuple[As, dict[str, Any]]:
    body = admin.ok("POST", "/users", json={"userName": name, "email": f"{name}@example.org"})
    assert body["token"].startswith("bf_")
    return user_as(body["token"]), body["user"]


def _default_org(admin: As) -> int:
    orgs = admin.ok("GET", "/orgs")["organizations"]
    assert [o["name"] for o in orgs] == ["default"] and orgs[0]["memberRole"] == "owner"
    return int(orgs[0]["orgId"])


def _roles(caller: As, user_id: int) -> dict[str, list[str]]:
    entries = caller.ok("GET", f"/user/{user_id}/workspaces")["orgsAndWorkspaces"]
    return {
        f"{e['orgName']}/{e['workspaceName']}" if e["workspaceId"] else e["orgName"]: e["roles"]
        for e in entries
    }


def test_effective_roles_direct_team_and_org_owner(admin: As, user_as: Any) -> None:
    org = _default_org(admin)
    alice, alice_user = _user(admin, user_as, "alice")
    bob, bob_user = _user(admin, user_as, "bob")
    for name in ("alice", "bob"):
        member = admin.ok("PUT", f"/orgs/{org}/members/add", json={"user": name})["member"]
        assert member["role"] == "member" and member["userName"] == name
    lab = admin.ok("POST", f"/orgs/{org}/workspaces", json={"workspace": {"name": "lab"}})
    lab_id = lab["workspace"]["id"]
    team = admin.ok("POST", f"/orgs/{org}/teams", json={"team": {"name": "devs"}})["team"]
    admin.ok("POST", f"/orgs/{org}/teams/{team['teamId']}/members", json={"userNameOrEmail": "bob"})
    base = f"/orgs/{org}/workspaces/{lab_id}/participants"
    direct = admin.ok("PUT", f"{base}/add", json={"userNameOrEmail": "alice"})["participant"]
    assert direct["type"] == "MEMBER" and direct["wspRole"] == "launch"
    by_team = admin.ok("PUT", f"{base}/add", json={"teamId": team["teamId"]})["participant"]
    admin.ok("PUT", f"{base}/{by_team['participantId']}/role", json={"role": "maintain"})

    assert _roles(alice, alice_user["id"])["default/lab"] == ["launch"]
    assert _roles(bob, bob_user["id"])["default/lab"] == ["maintain"]  # through the team
    # The admin owns the org: owner of every workspace, the default one included.
    admin_roles = _roles(admin, admin.ok("GET", "/user-info")["user"]["id"])
    assert admin_roles["default/default"] == ["owner"] and admin_roles["default"] == ["owner"]

    # Alice joins the team too: the higher of launch (direct) and maintain (team) applies.
    admin.ok(
        "POST", f"/orgs/{org}/teams/{team['teamId']}/members", json={"userNameOrEmail": "alice"}
    )
    assert _roles(alice, alice_user["id"])["default/lab"] == ["maintain"]
    # ... and that role is what authorisation reads: maintain may not create credentials.
    denied = alice("POST", "/credentials", params={"workspaceId": lab_id}, json={})
    assert denied.status_code == 403, denied.text
    # Alice is not in the default workspace: 404 there, not 403.
    assert alice("GET", f"/orgs/{org}/workspaces/{lab_id}").status_code == 200
    default_ws = next(
        e["workspaceId"]
        for e in admin.ok("GET", f"/user/{admin_user_id(admin)}/workspaces")["orgsAndWorkspaces"]
        if e["workspaceName"] == "default"
    )
    assert alice("GET", f"/orgs/{org}/workspaces/{default_ws}").status_code == 404

    # Removing the team drops bob's role; removing alice from the org drops hers.
    admin.ok("DELETE", f"/orgs/{org}/teams/{team['teamId']}")
    assert "default/lab" not in _roles(bob, bob_user["id"])
    admin.ok("DELETE", f"/orgs/{org}/members/{_member_id(admin, org, 'alice')}")
    assert _roles(alice, alice_user["id"]) == {}


def admin_user_id(admin: As) -> int:
    return int(admin.ok("GET", "/user-info")["user"]["id"])


def _member_id(caller: As, org: int, name: str) -> int:
    members = caller.ok("GET", f"/orgs/{org}/members")["members"]
    return next(m["memberId"] for m in members if m["userName"] == name)


def _error(response: Any, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["field"] == field, body
    return str(body["message"])


def test_guard_rules_answer_4xx_naming_the_field_and_change_nothing(
    admin: As, user_as: Any
) -> None:
    org = _default_org(admin)
    carol, carol_user = _user(admin, user_as, "carol")
    # Duplicates.
    _error(admin("POST", "/users", json={"userName": "carol"}), 409, "userName")
    _error(
        admin("POST", "/users", json={"userName": "carol2", "email": "CAROL@example.org"}),
        409,
        "email",
    )
    _error(admin("POST", "/orgs", json={"organization": {"name": "default"}}), 409, "name")
    _error(
        admin("POST", f"/orgs/{org}/workspaces", json={"workspace": {"name": "default"}}),
        409,
        "name",
    )
    admin.ok("POST", f"/orgs/{org}/teams", json={"team": {"name": "ops"}})
    _error(admin("POST", f"/orgs/{org}/teams", json={"team": {"name": "ops"}}), 409, "name")
    # The validate endpoints say the same before anything is tried (Seqera's */validate).
    _error(admin("GET", "/orgs/validate", params={"name": "default"}), 409, "name")
    assert admin("GET", "/orgs/validate", params={"name": "fresh"}).status_code == 204
    _error(
        admin("GET", f"/orgs/{org}/workspaces/validate", params={"name": "default"}), 409, "name"
    )
    _error(admin("GET", f"/orgs/{org}/teams/validate", params={"name": "ops"}), 409, "name")
    _error(admin("GET", "/users/validate", params={"name": "carol"}), 409, "userName")
    bad_query = admin("GET", "/orgs/validate", params={"name": "a b"})
    assert bad_query.status_code == 400 and bad_query.json()["field"] == "name", bad_query.text
    # Bad names: 400 naming the field.
    bad = admin("POST", "/orgs", json={"organization": {"name": "no spaces"}})
    assert bad.status_code == 400 and "organization.name" in bad.text
    # Unknown users.
    _error(admin("PUT", f"/orgs/{org}/members/add", json={"user": "nobody"}), 404, "user")
    # The last owner of an organization: not demoted, removed, nor leaving.
    me = _member_id(admin, org, "admin")
    _error(admin("PUT", f"/orgs/{org}/members/{me}/role", json={"role": "member"}), 409, "memberId")
    _error(admin("DELETE", f"/orgs/{org}/members/{me}"), 409, "memberId")
    _error(admin("DELETE", f"/orgs/{org}/members/leave"), 409, "memberId")
    members = admin.ok("GET", f"/orgs/{org}/members")["members"]
    assert [(m["userName"], m["role"]) for m in members] == [("admin", "owner")]
    # Non-members do not see the org (404); members who are not owners may not change it.
    assert carol("GET", f"/orgs/{org}").status_code == 404
    admin.ok("PUT", f"/orgs/{org}/members/add", json={"user": "carol"})
    carol_forbidden = carol("PUT", f"/orgs/{org}/members/add", json={"user": "admin"})
    assert carol_forbidden.status_code == 403
    # The system administrator alone manages users.
    assert carol("POST", "/users", json={"userName": "dave"}).status_code == 403
    assert carol("GET", "/users").status_code == 403
    # Carol, the last owner of her own org, is not deleted.
    mine = carol.ok("POST", "/orgs", json={"organization": {"name": "carols"}})["organization"]
    assert mine["memberRole"] == "owner"
    _error(admin("DELETE", f"/users/{carol_user['id']}"), 409, "userId")
    assert carol.ok("GET", "/user-info")["user"]["userName"] == "carol"


def test_last_workspace_admin_cannot_demote_or_remove_itself(admin: As, user_as: Any) -> None:
    org = _default_org(admin)
    erin, _ = _user(admin, user_as, "erin")
    admin.ok("PUT", f"/orgs/{org}/members/add", json={"user": "erin"})
    ws = admin.ok("POST", f"/orgs/{org}/workspaces", json={"workspace": {"name": "w1"}})
    base = f"/orgs/{org}/workspaces/{ws['workspace']['id']}/participants"
    erin_part = admin.ok("PUT", f"{base}/add", json={"userNameOrEmail": "erin"})["participant"]
    admin.ok("PUT", f"{base}/{erin_part['participantId']}/role", json={"role": "admin"})
    admin.ok("DELETE", base)  # the admin leaves: erin remains the one admin participant
    parts = erin.ok("GET", base)["participants"]
    assert [(p["userName"], p["wspRole"]) for p in parts] == [("erin", "admin")]
    pid = erin_part["participantId"]
    message = _error(
        erin("PUT", f"{base}/{pid}/role", json={"role": "launch"}), 409, "participantId"
    )
    assert "last owner or admin" in message
    _error(erin("DELETE", f"{base}/{pid}"), 409, "participantId")
    _error(erin("DELETE", base), 409, "participantId")
    # An admin may not grant the owner role (workspace:admin is the owner's).
    assert erin("PUT", f"{base}/{pid}/role", json={"role": "owner"}).status_code == 403
    assert [p["wspRole"] for p in erin.ok("GET", base)["participants"]] == ["admin"]
    _error(erin("PUT", f"{base}/add", json={"userNameOrEmail": "nobody"}), 404, "userNameOrEmail")
    _error(erin("PUT", f"{base}/add", json={"userNameOrEmail": "erin"}), 409, "userNameOrEmail")
    # Nor does erin go with her organization membership, her user, or a team holding the role.
    erin_member = _member_id(admin, org, "erin")
    _error(admin("DELETE", f"/orgs/{org}/members/{erin_member}"), 409, "participantId")
    _error(admin("DELETE", f"/users/{erin_part_user(admin)}"), 409, "participantId")
    team = admin.ok("POST", f"/orgs/{org}/teams", json={"team": {"name": "leads"}})["team"]
    admin.ok(
        "POST", f"/orgs/{org}/teams/{team['teamId']}/members", json={"userNameOrEmail": "erin"}
    )
    leads = erin.ok("PUT", f"{base}/add", json={"teamId": team["teamId"]})["participant"]
    erin.ok("PUT", f"{base}/{leads['participantId']}/role", json={"role": "admin"})
    erin.ok("PUT", f"{base}/{pid}/role", json={"role": "launch"})  # the team is admin now
    _error(admin("DELETE", f"/orgs/{org}/teams/{team['teamId']}"), 409, "participantId")
    erin_in_team = f"/orgs/{org}/teams/{team['teamId']}/members/{erin_member}/delete"
    _error(admin("DELETE", erin_in_team), 409, "participantId")
    assert erin.ok("GET", f"/user/{erin_part_user(admin)}/workspaces")  # still in
    roles = {p["wspRole"] for p in erin.ok("GET", base)["participants"]}
    assert roles == {"launch", "admin"}


def erin_part_user(admin: As) -> int:
    return next(u["id"] for u in admin.ok("GET", "/users")["users"] if u["userName"] == "erin")


def test_disabled_users_tokens_are_refused(admin: As, user_as: Any) -> None:
    frank, frank_user = _user(admin, user_as, "frank")
    assert frank("GET", "/user-info").status_code == 200
    admin.ok("PUT", f"/users/{frank_user['id']}/state", json={"disabled": True})
    refused = frank("GET", "/user-info")
    assert refused.status_code == 401 and "disabled" in refused.json()["message"]
    users = {u["userName"]: u for u in admin.ok("GET", "/users")["users"]}
    assert users["frank"]["disabled"] is True and users["admin"]["isAdmin"] is True
    _error(
        admin("PUT", f"/users/{admin_user_id(admin)}/state", json={"disabled": True}), 409, "userId"
    )
    admin.ok("PUT", f"/users/{frank_user['id']}/state", json={"disabled": False})
    assert frank("GET", "/user-info").status_code == 200
    admin.ok("DELETE", f"/users/{frank_user['id']}")
    assert frank("GET", "/user-info").status_code == 401
