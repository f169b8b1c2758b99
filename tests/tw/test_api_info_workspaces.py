"""tw-shaped requests: ``tw info``, workspaces and participants.

Each case mirrors a request of seqeralabs/tower-cli's tests (named in ``source``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tw.conftest import Req, TwWorld, params, replay, unique

INFO = "src/test/java/io/seqera/tower/cli/InfoCmdTest.java"
WSP = "src/test/java/io/seqera/tower/cli/workspaces/WorkspacesCmdTest.java"
PART = "src/test/java/io/seqera/tower/cli/participants/ParticipantsCmdTest.java"


def _api_version_new_enough(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    # tw info compares serviceInfo.apiVersion with its VERSION-API (1.198.0).
    parts = tuple(int(p) for p in answer["serviceInfo"]["apiVersion"].split("."))
    assert parts >= (1, 198, 0)


def _new_workspace(world: TwWorld) -> dict[str, Any]:
    body = {"workspace": {"name": unique("wsp"), "fullName": "tw case", "visibility": "PRIVATE"}}
    made = world.ok(
        world.call("POST", f"/orgs/{world.org_id}/workspaces", body=body, workspace=False)
    )
    return {"wsp_id": made["workspace"]["id"], "wsp_name": made["workspace"]["name"]}


def _user_participant(world: TwWorld) -> dict[str, Any]:
    listed = world.ok(
        world.call(
            "GET", f"/orgs/{world.org_id}/workspaces/{world.workspace_id}/participants",
            workspace=False,
        )
    )  # fmt: skip
    return {"participant_id": listed["participants"][0]["participantId"]}


def _stranger(world: TwWorld) -> dict[str, Any]:
    """A user who is no member of the organization (added as participant: a collaborator)."""
    from batchforge.services import accounts

    name = unique("carol")
    accounts.create_user(world.ctx, name)
    return {"stranger": name}


def _collaborator(world: TwWorld) -> dict[str, Any]:
    made = _stranger(world)
    path = f"/orgs/{world.org_id}/workspaces/{world.workspace_id}/participants/add"
    world.ok(world.call("PUT", path, body={"userNameOrEmail": made["stranger"]}, workspace=False))
    return made


def _is(path: str, value: Any) -> Any:
    def check(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
        found = answer
        for part in path.split("."):
            found = found[int(part)] if part.isdigit() else found[part]
        assert found == (value.format(**values) if isinstance(value, str) else value), answer

    return check


CASES = [
    Req("service-info", INFO, "GET", "/service-info", workspace=False,
        reads={"serviceInfo.version": str, "serviceInfo.apiVersion": str},
        check=_api_version_new_enough),
    Req("user-info", INFO, "GET", "/user-info", workspace=False,
        reads={"user.id": int, "user.userName": str}),
    Req("user-info-bad-token", INFO, "GET", "/user-info", workspace=False, status=401),
    Req("user-workspaces", WSP, "GET", "/user/{user_id}/workspaces", workspace=False,
        reads={"orgsAndWorkspaces[0].orgId": int, "orgsAndWorkspaces[0].orgName": str}),
    Req("workspace-validate-name", WSP, "GET", "/orgs/{org_id}/workspaces/validate",
        query={"name": "wspNew"}, workspace=False, status=204),
    Req("workspace-add", WSP, "POST", "/orgs/{org_id}/workspaces", workspace=False,
        body={"workspace": {"name": "workspace1", "fullName": "wsp-new",
                            "description": "workspace description", "visibility": "PRIVATE"}},
        reads={"workspace.id": int, "workspace.name": str}),
    Req("workspace-view", WSP, "GET", "/orgs/{org_id}/workspaces/{wsp_id}", workspace=False,
        setup=_new_workspace, reads={"workspace.id": int, "workspace.fullName": str}),
    Req("workspace-update", WSP, "PUT", "/orgs/{org_id}/workspaces/{wsp_id}", workspace=False,
        setup=_new_workspace,
        body={"name": "{wsp_name}", "fullName": "wsp-new", "description": "workspace description",
              "visibility": "PRIVATE"},
        reads={"workspace.fullName": str}),
    Req("workspace-delete", WSP, "DELETE", "/orgs/{org_id}/workspaces/{wsp_id}",
        workspace=False, setup=_new_workspace, status=204),
    Req("workspace-view-missing", WSP, "GET", "/orgs/{org_id}/workspaces/999999",
        workspace=False, status=404),
    Req("org-workspaces", WSP, "GET", "/orgs/{org_id}/workspaces", workspace=False,
        reads={"workspaces[0].id": int, "workspaces[0].name": str}),
    Req("participants-list", PART, "GET",
        "/orgs/{org_id}/workspaces/{workspace_id}/participants", workspace=False,
        reads={"participants[0].participantId": int, "participants[0].wspRole": str,
               "totalSize": int}),
    Req("participants-page", PART, "GET",
        "/orgs/{org_id}/workspaces/{workspace_id}/participants",
        query={"offset": 0, "max": 2}, workspace=False, reads={"participants": list}),
    Req("participants-search", PART, "GET",
        "/orgs/{org_id}/workspaces/{workspace_id}/participants",
        query={"search": "admin"}, workspace=False, reads={"participants": list}),
    Req("participant-role", PART, "PUT",
        "/orgs/{org_id}/workspaces/{workspace_id}/participants/{participant_id}/role",
        workspace=False, setup=_user_participant, body={"role": "owner"}, status=204),
    Req("org-members", PART, "GET", "/orgs/{org_id}/members", workspace=False,
        reads={"members[0].memberId": int, "members[0].userName": str}),
    # USAGE.md: workspaces add --visibility=SHARED (tw's AddCmd sends it in the workspace).
    Req("workspace-add-shared", WSP, "POST", "/orgs/{org_id}/workspaces", workspace=False,
        body={"workspace": {"name": "sharedws", "fullName": "shared-workspace-for-all",
                            "visibility": "SHARED"}},
        check=_is("workspace.visibility", "SHARED")),
    Req("workspace-update-visibility", WSP, "PUT", "/orgs/{org_id}/workspaces/{wsp_id}",
        workspace=False, setup=_new_workspace,
        body={"fullName": "wsp-new", "visibility": "SHARED"},
        check=_is("workspace.visibility", "SHARED")),
    # ParticipantsCmdTest: add -t COLLABORATOR: a user who is not a member (userNameOrEmail).
    Req("participant-add-collaborator", PART, "PUT",
        "/orgs/{org_id}/workspaces/{workspace_id}/participants/add", workspace=False,
        setup=_stranger, body={"userNameOrEmail": "{stranger}"},
        reads={"participant.participantId": int, "participant.memberId": int},
        check=_is("participant.type", "COLLABORATOR")),
    # AbstractParticipantsCmd.findOrganizationCollaboratorByName: ?search=NAME.
    Req("org-collaborators", PART, "GET", "/orgs/{org_id}/collaborators", workspace=False,
        setup=_collaborator, query={"search": "{stranger}"},
        reads={"members[0].memberId": int, "members[0].userName": str, "totalSize": int},
        check=_is("members.0.role", "collaborator")),
]  # fmt: skip


@pytest.mark.tw_request
@pytest.mark.parametrize("case", params(CASES))
def test_tw_request(tw_world: TwWorld, case: Req) -> None:
    if case.id == "user-info-bad-token":
        response = tw_world.http.get("/user-info", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert isinstance(response.json()["message"], str)
        return
    replay(tw_world, case)
