"""Requests to Seqera's ``/roles`` (custom roles) as its API spec shapes them, and the one
``tw`` sends with a custom role: ``tw participants update -r my-role`` (tower-cli #577:
``UpdateParticipantRoleRequest.role`` is any role name).  ``tw`` has no ``roles`` command
group; other Seqera clients (the web UI, the SDK's ``RolesApi``) send these."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tw.conftest import Req, TwWorld, params, replay, unique

SPEC = "seqera-api-cloud.yaml: /roles"
PART = "src/test/java/io/seqera/tower/cli/participants/ParticipantsCmdTest.java"


def _role(world: TwWorld, *permissions: str) -> str:
    name = unique("role")
    body = {"name": name, "description": "tw case", "permissions": list(permissions)}
    world.ok(world.call("POST", "/roles", {"orgId": world.org_id}, body, workspace=False), 201)
    return name


def _made_role(world: TwWorld) -> dict[str, Any]:
    return {"role": _role(world, "pipeline:read", "launch:read")}


def _fresh_name(world: TwWorld) -> dict[str, Any]:
    return {"role": unique("role")}


def _custom_participant(world: TwWorld) -> dict[str, Any]:
    """A new collaborator of the workspace, and a custom role to give it."""
    from batchforge.services import accounts

    name = unique("rolecarol")
    accounts.create_user(world.ctx, name)
    path = f"/orgs/{world.org_id}/workspaces/{world.workspace_id}/participants/add"
    added = world.ok(world.call("PUT", path, body={"userNameOrEmail": name}, workspace=False))
    return {"participant_id": added["participant"]["participantId"], **_made_role(world)}


def _wsp_role_is_custom(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    path = f"/orgs/{world.org_id}/workspaces/{world.workspace_id}/participants"
    listed = world.ok(world.call("GET", path, workspace=False))["participants"]
    found = {p["participantId"]: p["wspRole"] for p in listed}
    assert found[values["participant_id"]] == values["role"], found


def _no_role(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    path = f"/roles/{values['role']}"
    assert world.call("GET", path, {"orgId": world.org_id}, workspace=False).status_code == 404


CASES = [
    Req("roles-create", SPEC, "POST", "/roles", query={"orgId": "{org_id}"}, workspace=False,
        setup=_fresh_name, status=201,
        body={"name": "{role}", "description": "Pipeline readers",
              "permissions": ["pipeline:read", "launch:read"]},
        reads={"name": str, "description": str, "permissions[1]": str}),
    Req("roles-create-duplicate", SPEC, "POST", "/roles", query={"orgId": "{org_id}"},
        workspace=False, setup=_made_role, status=409,
        body={"name": "{role}", "description": "again"}),
    Req("roles-create-bad-permission", SPEC, "POST", "/roles", query={"orgId": "{org_id}"},
        workspace=False, setup=_fresh_name, status=400,
        body={"name": "{role}", "description": "x", "permissions": ["pipeline:fly"]}),
    Req("roles-list", SPEC, "GET", "/roles", query={"orgId": "{org_id}", "max": 10, "offset": 0},
        workspace=False,
        reads={"roles[0].name": str, "roles[0].description": str,
               "roles[0].isPredefined": bool, "totalSize": int}),
    Req("roles-list-custom", SPEC, "GET", "/roles",
        query={"orgId": "{org_id}", "type": "custom", "name": "{role}"}, workspace=False,
        setup=_made_role, reads={"roles[0].isPredefined": bool, "totalSize": int}),
    Req("roles-permissions", SPEC, "GET", "/roles/permissions", query={"orgId": "{org_id}"},
        workspace=False,
        reads={"permissions[0].name": str, "permissions[0].category": str}),
    Req("roles-validate-free", SPEC, "GET", "/roles/validate",
        query={"orgId": "{org_id}", "name": "{role}"}, workspace=False, setup=_fresh_name,
        status=204),
    Req("roles-validate-taken", SPEC, "GET", "/roles/validate",
        query={"orgId": "{org_id}", "name": "{role}"}, workspace=False, setup=_made_role,
        status=409),
    Req("roles-describe", SPEC, "GET", "/roles/{role}", query={"orgId": "{org_id}"},
        workspace=False, setup=_made_role,
        reads={"role.name": str, "role.isPredefined": bool, "role.permissions[0]": str}),
    Req("roles-describe-predefined", SPEC, "GET", "/roles/maintain",
        query={"orgId": "{org_id}"}, workspace=False,
        reads={"role.isPredefined": bool, "role.permissions": list}),
    Req("roles-update", SPEC, "PUT", "/roles/{role}", query={"orgId": "{org_id}"},
        workspace=False, setup=_made_role, status=204,
        body={"description": "changed", "permissions": ["workflow:read"]}),
    Req("roles-delete", SPEC, "DELETE", "/roles/{role}", query={"orgId": "{org_id}"},
        workspace=False, setup=_made_role, status=204, check=_no_role),
    Req("participant-role-custom", PART, "PUT",
        "/orgs/{org_id}/workspaces/{workspace_id}/participants/{participant_id}/role",
        workspace=False, setup=_custom_participant, body={"role": "{role}"}, status=204,
        check=_wsp_role_is_custom),
]  # fmt: skip


@pytest.mark.tw_request
@pytest.mark.parametrize("case", params(CASES))
def test_tw_request(tw_world: TwWorld, case: Req) -> None:
    replay(tw_world, case)
