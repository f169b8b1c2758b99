"""Shared workspaces and organization collaborators, as Seqera (real HTTP, SQLite and
PostgreSQL).

Org ``lab``: Alice owns workspace A (a pipeline on her compute environment), Bob owns
workspace B (his own compute environment); both are organization members.  A SHARED: Bob
lists A's pipeline from B (``visibility=shared|all``), reads its launch and launches it in B
on his environment, but cannot change or delete it; A PRIVATE: A's pipeline is 404 to him.
Carol, not a member, added to B as participant, is a collaborator: she sees B only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.services import accounts
from batchforge.services.context import AppContext
from tests.authz.conftest import Caller, new_caller
from tests.factories import keys_credentials
from tests.runs.conftest import jobs, manual_env  # noqa: F401  (jobs: a fixture)

HELLO = "https://github.com/nextflow-io/hello"


@dataclass
class Lab:
    org_id: int
    a: int
    b: int
    alice: Caller
    bob: Caller
    pipeline: int
    alice_env: str
    bob_env: str


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json() if response.content else None


def _share(ctx: AppContext, workspace_id: int, visibility: str) -> None:
    with ctx.db.transaction() as session:
        session.execute(
            update(models.Workspace)
            .where(models.Workspace.id == workspace_id)
            .values(visibility=visibility)
        )


@pytest.fixture
def lab(
    app_ctx: AppContext,
    server: str,
    http: httpx.Client,
    local_aws: Any,
    jobs: Any,  # noqa: F811
) -> Iterator[Lab]:
    org = f"lab-{uuid.uuid4().hex[:6]}"
    ws_a = accounts.create_workspace(app_ctx, org, "ws-a", None)
    ws_b = accounts.create_workspace(app_ctx, org, "ws-b", None)
    alice = new_caller(app_ctx, http, ws_a, "owner", "alice")
    bob = new_caller(app_ctx, http, ws_b, "owner", "bob")
    with BatchforgeClient(server, alice.token, ws_a) as api:
        alice_env = manual_env(api, local_aws, api.create_credentials(keys_credentials("a")))
    with BatchforgeClient(server, bob.token, ws_b) as api:
        bob_env = manual_env(api, local_aws, api.create_credentials(keys_credentials("b")))
    body = {"name": "shared-hello", "launch": {"pipeline": HELLO, "computeEnvId": alice_env}}
    pipeline = _ok(alice.request("POST", "/pipelines", json=body))["pipeline"]["pipelineId"]
    with app_ctx.db.transaction() as session:
        org_id = session.get(models.Workspace, ws_a).org_id  # type: ignore[union-attr]
    yield Lab(org_id, ws_a, ws_b, alice, bob, pipeline, alice_env, bob_env)


def _names(caller: Caller, visibility: str | None) -> dict[str, dict[str, Any]]:
    params = {"visibility": visibility} if visibility else {}
    found = _ok(caller.request("GET", "/pipelines", params=params))["pipelines"]
    return {item["name"]: item for item in found}


def test_shared_pipeline_listed_and_launched_from_another_workspace(
    app_ctx: AppContext, lab: Lab
) -> None:
    _share(app_ctx, lab.a, "SHARED")
    bob, source = lab.bob, {"sourceWorkspaceId": lab.a}
    assert "shared-hello" not in _names(bob, None)  # Seqera's default: private
    assert "shared-hello" not in _names(bob, "private")
    for visibility in ("shared", "all"):
        listed = _names(bob, visibility)["shared-hello"]
        assert listed["workspaceId"] == lab.a and listed["visibility"] == "SHARED", listed
        assert listed["orgId"] == lab.org_id and listed["workspaceName"] == "ws-a", listed

    path = f"/pipelines/{lab.pipeline}"
    assert _ok(bob.request("GET", path, params=source))["pipeline"]["name"] == "shared-hello"
    launch = _ok(bob.request("GET", f"{path}/launch", params=source))["launch"]
    assert launch["pipeline"] == HELLO and not launch.get("computeEnvId"), launch

    # Launched in B on B's compute environment: the run is B's.
    body = {"launch": {"computeEnvId": lab.bob_env}}
    run = _ok(bob.request("POST", f"{path}/launch", params=source, json=body))["workflowId"]
    assert _ok(bob.request("GET", f"/workflow/{run}"))["workflow"]["id"] == run
    assert lab.alice.request("GET", f"/workflow/{run}").status_code == 404
    # As tw launch does it: the launch read above, posted with sourceWorkspaceId.
    posted = {"launch": {"pipeline": HELLO, "computeEnvId": lab.bob_env}}
    _ok(bob.request("POST", "/workflow/launch", params=source, json=posted))

    # Read and launch only: never changed or deleted (from B, from A, or naming A).
    for method, body in (("PUT", {"name": "stolen"}), ("DELETE", None)):
        for params, workspace in ((source, True), ({}, lab.a), ({}, True)):
            answer = bob.request(method, path, json=body, params=params, workspace=workspace)
            assert answer.status_code == 404, (method, params, workspace, answer.text)
    assert _ok(lab.alice.request("GET", path))["pipeline"]["name"] == "shared-hello"
    # Nor another permission through the source: A's compute environment stays A's.
    assert bob.request("GET", f"/compute-envs/{lab.alice_env}", params=source).status_code == 404


def test_private_workspace_pipelines_stay_404(app_ctx: AppContext, lab: Lab) -> None:
    bob, source, path = lab.bob, {"sourceWorkspaceId": lab.a}, f"/pipelines/{lab.pipeline}"
    assert "shared-hello" not in _names(bob, "all")
    for suffix in ("", "/launch"):
        answer = bob.request("GET", path + suffix, params=source)
        assert answer.status_code == 404, answer.text
        assert answer.json()["field"] == "sourceWorkspaceId"
    body = {"launch": {"computeEnvId": lab.bob_env}}
    assert bob.request("POST", f"{path}/launch", params=source, json=body).status_code == 404
    # A shared workspace of another organization is not lent either.
    _share(app_ctx, lab.a, "SHARED")
    other = accounts.create_workspace(app_ctx, f"x-{uuid.uuid4().hex[:6]}", "x", lab.bob.user_id)
    _share(app_ctx, other, "SHARED")
    answer = bob.request("GET", path, params=source, workspace=other)
    assert answer.status_code == 404, answer.text


def test_collaborator_sees_only_its_workspaces(
    app_ctx: AppContext, lab: Lab, http: httpx.Client
) -> None:
    _share(app_ctx, lab.a, "SHARED")
    user_id, token = accounts.create_user(app_ctx, f"carol-{uuid.uuid4().hex[:6]}")
    carol = Caller(http, token, lab.b, user_id)
    with app_ctx.db.transaction() as session:
        user = session.get(models.User, user_id)
        assert user is not None
        name = user.user_name
    org, participants = f"/orgs/{lab.org_id}", f"/orgs/{lab.org_id}/workspaces/{lab.b}/participants"
    added = _ok(lab.bob.request("PUT", f"{participants}/add", json={"userNameOrEmail": name}))
    assert added["participant"]["type"] == "COLLABORATOR", added
    assert added["participant"]["orgRole"] == "collaborator", added

    # Listed as a collaborator, never as a member.
    members = _ok(lab.bob.request("GET", f"{org}/members", workspace=None))["members"]
    assert name not in {m["userName"] for m in members}
    found = _ok(lab.bob.request("GET", f"{org}/collaborators", workspace=None))["members"]
    assert [(m["userName"], m["role"]) for m in found] == [(name, "collaborator")]

    # Carol: her workspace B only; the org's members, collaborators, teams: 403; A: 404.
    listed = _ok(carol.request("GET", f"{org}/workspaces", workspace=None))["workspaces"]
    assert [w["id"] for w in listed] == [lab.b]
    for path in (f"{org}/members", f"{org}/collaborators", f"{org}/teams"):
        assert carol.request("GET", path, workspace=None).status_code == 403, path
    assert carol.request("GET", f"{org}/workspaces/{lab.a}", workspace=None).status_code == 404
    assert carol.request("GET", "/pipelines", workspace=lab.a).status_code == 404
    # Shared workspaces are for the organization's members, not its collaborators.
    assert "shared-hello" not in _names(carol, "all")
    answer = carol.request("GET", f"/pipelines/{lab.pipeline}", params={"sourceWorkspaceId": lab.a})
    assert answer.status_code == 404
    assert _ok(carol.request("GET", "/pipelines"))["pipelines"] == []  # B's, readable

    # Her last participation gone, she is no collaborator any more.
    pid = added["participant"]["participantId"]
    _ok(lab.bob.request("DELETE", f"{participants}/{pid}", workspace=None))
    assert _ok(lab.bob.request("GET", f"{org}/collaborators", workspace=None))["members"] == []
    assert carol.request("GET", f"{org}/workspaces", workspace=None).status_code == 404


def test_bad_visibility_names_the_field(lab: Lab) -> None:
    path = f"/orgs/{lab.org_id}/workspaces"
    owner = lab.alice  # A's owner (the input rule is checked before anything is looked up)
    body = {"workspace": {"name": "cc", "fullName": "c", "visibility": "PUBLIC"}}
    answer = owner.request("POST", path, json=body, workspace=None)
    assert answer.status_code == 400 and answer.json()["field"] == "workspace.visibility"
    answer = owner.request("PUT", f"{path}/{lab.a}", json={"visibility": "open"}, workspace=None)
    assert answer.status_code == 400 and answer.json()["field"] == "visibility"
    answer = lab.bob.request("GET", "/pipelines", params={"visibility": "public"})
    assert answer.status_code == 400 and answer.json()["field"] == "visibility"
    # A valid one is stored and shown (Alice owns A).
    _ok(owner.request("PUT", f"{path}/{lab.a}", json={"visibility": "SHARED"}, workspace=None))
    shown = _ok(owner.request("GET", f"{path}/{lab.a}", workspace=None))["workspace"]
    assert shown["visibility"] == "SHARED"
