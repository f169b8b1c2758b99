"""The role-by-permission matrix through real HTTP: for every permission of Seqera's table
that batchforge has a feature for, a request by a participant of each role (owner, admin,
maintain, launch, connect, view) is allowed (its normal answer) or refused with 403 naming
the permission, exactly as ``/work/shared/reference/seqera-workspace-roles.md`` says; a user
of another workspace gets 404 (``field: workspaceId``), as for a workspace that does not exist.

One server and one set of users per database; a refused delete leaves its resource in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from batchforge.server.app import create_app
from batchforge.services import accounts, authz
from batchforge.services.authz import Permission
from batchforge.services.context import AppContext
from tests.authz.conftest import Caller, new_caller
from tests.authz.routes import declared_permissions, served_routes
from tests.explorer.conftest import make_bucket
from tests.factories import fake_keys
from tests.trace.conftest import make_run


def _credentials_body() -> dict[str, Any]:
    keys = fake_keys()
    return {
        "credentials": {
            "name": f"keys-{uuid.uuid4().hex[:8]}",
            "provider": "aws",
            "keys": {"accessKey": keys.access_key, "secretKey": keys.secret_key},
        }
    }


@dataclass
class World:
    """A workspace with one of each resource, made by its owner."""

    ctx: AppContext
    owner: Caller
    workspace_id: int
    bucket: str
    credentials_id: str = ""
    link_id: str = ""
    pipeline_id: int = 0
    run_id: str = ""
    made: dict[str, str] = field(default_factory=dict)

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None

    # Fresh resources, one per attempt (for deletes).
    def credentials(self) -> str:
        created = self.ok(self.owner.request("POST", "/credentials", json=_credentials_body()))
        return str(created["credentialsId"])

    def link(self) -> str:
        body = {
            "name": f"link-{uuid.uuid4().hex[:8]}",
            "resourceRef": f"s3://{self.bucket}",
            "credentialsId": self.credentials_id,
        }
        return str(self.ok(self.owner.request("POST", "/data-links", json=body))["id"])

    def label(self) -> str:
        body = {"name": f"l{uuid.uuid4().hex[:8]}"}
        return str(self.ok(self.owner.request("POST", "/labels", json=body))["id"])

    def pipeline(self) -> str:
        body = {
            "name": f"p-{uuid.uuid4().hex[:8]}",
            "launch": {"pipeline": "https://github.com/nextflow-io/hello"},
        }
        created = self.ok(self.owner.request("POST", "/pipelines", json=body))
        return str(created["pipeline"]["pipelineId"])

    def secret(self) -> str:
        body = {"name": f"S_{uuid.uuid4().hex[:8].upper()}", "value": "v"}
        return str(self.ok(self.owner.request("POST", "/pipeline-secrets", json=body))["secretId"])

    def run(self) -> str:
        return make_run(self.ctx, self.workspace_id, status="SUCCEEDED", submit_state="done")


@dataclass
class Case:
    """One request needing ``permission``: its answer when allowed is ``ok``.

    ``fresh`` makes the resource the request acts on (``{id}`` in ``path``) anew for each
    attempt; ``still`` is the path that must still answer 200 after a refused attempt."""

    permission: Permission
    method: str
    path: str
    ok: int = 200
    body: Callable[[World], Any] | None = None
    fresh: Callable[[World], str] | None = None
    still: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    expect_message: str | None = None  # in an allowed 4xx answer (not the workspace's)


# Declared by a route but not requested here: workspace:read (routes of T1's organization
# API and the UI's overview, which tests/authz/test_ui_roles.py covers).
UNTESTED_HERE = {Permission.WORKSPACE_READ}

MISSING_CE = "missingCe0000000000000"

CASES: list[Case] = [
    Case(Permission.COMPUTE_ENVIRONMENT_READ, "GET", "/compute-envs"),
    Case(
        Permission.COMPUTE_ENVIRONMENT_WRITE,
        "POST",
        f"/compute-envs/{MISSING_CE}/disable",
        ok=404,
        expect_message="Compute environment",
    ),
    Case(
        Permission.COMPUTE_ENVIRONMENT_DELETE,
        "DELETE",
        f"/compute-envs/{MISSING_CE}",
        ok=404,
        expect_message="Compute environment",
    ),
    Case(Permission.CREDENTIALS_READ, "GET", "/credentials"),
    Case(Permission.CREDENTIALS_READ, "GET", "/credentials/{cred}"),
    Case(Permission.CREDENTIALS_WRITE, "POST", "/credentials", body=lambda w: _credentials_body()),
    Case(
        Permission.CREDENTIALS_DELETE,
        "DELETE",
        "/credentials/{id}",
        ok=204,
        fresh=World.credentials,
        still="/credentials/{id}",
    ),
    Case(Permission.DATA_LINK_READ, "GET", "/data-links"),
    Case(Permission.DATA_LINK_READ, "GET", "/data-links/{link}"),
    Case(
        Permission.DATA_LINK_WRITE,
        "POST",
        "/data-links",
        body=lambda w: {
            "name": f"link-{uuid.uuid4().hex[:8]}",
            "resourceRef": f"s3://{w.bucket}",
            "credentialsId": w.credentials_id,
        },
    ),
    Case(
        Permission.DATA_LINK_DELETE,
        "DELETE",
        "/data-links/{id}",
        ok=204,
        fresh=World.link,
        still="/data-links/{id}",
    ),
    Case(Permission.DATA_LINK_OBJECT_READ, "GET", "/data-links/{link}/browse"),
    Case(
        Permission.DATA_LINK_OBJECT_WRITE,
        "POST",
        "/data-links/{link}/folder/{id}",
        fresh=lambda w: f"dir-{uuid.uuid4().hex[:8]}",
    ),
    Case(
        Permission.DATA_LINK_OBJECT_DELETE,
        "DELETE",
        "/data-links/{link}/content",
        body=lambda w: {"files": ["no-such-object.txt"]},
    ),
    Case(Permission.LABEL_READ, "GET", "/labels"),
    Case(
        Permission.LABEL_WRITE, "POST", "/labels", body=lambda w: {"name": f"l{uuid.uuid4().hex}"}
    ),
    Case(Permission.LABEL_DELETE, "DELETE", "/labels/{id}", ok=204, fresh=World.label),
    Case(Permission.PIPELINE_READ, "GET", "/pipelines"),
    Case(Permission.PIPELINE_READ, "GET", "/pipelines/{pipeline}"),
    Case(
        Permission.PIPELINE_WRITE,
        "POST",
        "/pipelines",
        body=lambda w: {
            "name": f"p-{uuid.uuid4().hex[:8]}",
            "launch": {"pipeline": "https://github.com/nextflow-io/hello"},
        },
    ),
    Case(
        Permission.PIPELINE_DELETE,
        "DELETE",
        "/pipelines/{id}",
        ok=204,
        fresh=World.pipeline,
        still="/pipelines/{id}",
    ),
    Case(Permission.LAUNCH_READ, "GET", "/pipelines/{pipeline}/launch"),
    Case(Permission.LAUNCH_READ, "GET", "/workflow/{run}/launch"),
    Case(Permission.PIPELINE_SECRETS_READ, "GET", "/pipeline-secrets"),
    Case(
        Permission.PIPELINE_SECRETS_WRITE,
        "POST",
        "/pipeline-secrets",
        body=lambda w: {"name": f"S_{uuid.uuid4().hex[:8].upper()}", "value": "v"},
    ),
    Case(
        Permission.PIPELINE_SECRETS_DELETE,
        "DELETE",
        "/pipeline-secrets/{id}",
        ok=204,
        fresh=World.secret,
        still="/pipeline-secrets/{id}",
    ),
    Case(Permission.PLATFORM_READ, "GET", "/platforms"),
    Case(Permission.WORKFLOW_READ, "GET", "/workflow"),
    Case(Permission.WORKFLOW_READ, "GET", "/workflow/{run}"),
    Case(
        Permission.WORKFLOW_EXECUTE,
        "POST",
        "/workflow/launch",
        body=lambda w: {
            "launch": {
                "computeEnvId": MISSING_CE,
                "pipeline": "https://github.com/nextflow-io/hello",
            }
        },
        ok=404,
        expect_message="Compute environment",
    ),
    Case(
        Permission.WORKFLOW_EXECUTE,
        "POST",
        "/pipelines/{pipeline}/launch",
        body=lambda w: {"launch": {"computeEnvId": MISSING_CE}},
        ok=404,
        expect_message="Compute environment",
    ),
    # A run launched elsewhere, reported with a personal token (nf-tower's create call).
    Case(
        Permission.WORKFLOW_EXECUTE,
        "POST",
        "/trace/create",
        body=lambda w: {
            "sessionId": str(uuid.uuid4()),
            "runName": f"elsewhere-{uuid.uuid4().hex[:6]}",
            "projectName": "nextflow-io/hello",
            "repository": "https://github.com/nextflow-io/hello",
        },
    ),
    Case(
        Permission.WORKFLOW_WRITE,
        "POST",
        "/workflow/{id}/cancel",
        ok=204,
        fresh=World.run,
    ),
    Case(
        Permission.PIPELINE_LABEL_WRITE,
        "POST",
        "/pipelines/labels/add",
        body=lambda w: {"pipelineIds": [w.pipeline_id], "labelIds": [int(w.label())]},
        ok=204,
    ),
    Case(
        Permission.WORKFLOW_LABEL_WRITE,
        "POST",
        "/workflow/labels/add",
        body=lambda w: {"workflowIds": [w.run_id], "labelIds": [int(w.label())]},
        ok=204,
    ),
    Case(
        Permission.WORKFLOW_DELETE,
        "DELETE",
        "/workflow/{id}",
        params={"force": "true"},
        ok=204,
        fresh=World.run,
        still="/workflow/{id}",
    ),
]


def _world(app_ctx: AppContext, http: httpx.Client, local_aws: Any) -> World:
    workspace_id = accounts.create_workspace(app_ctx, f"acme-{uuid.uuid4().hex[:6]}", "lab", None)
    owner = new_caller(app_ctx, http, workspace_id, "owner", "owner")
    world = World(app_ctx, owner, workspace_id, make_bucket(local_aws))
    world.credentials_id = world.credentials()
    world.link_id = world.link()
    world.pipeline_id = int(world.pipeline())
    world.run_id = world.run()
    return world


def _path(case: Case, world: World, fresh_id: str | None) -> str:
    return case.path.format(
        id=fresh_id,
        cred=world.credentials_id,
        link=world.link_id,
        pipeline=world.pipeline_id,
        run=world.run_id,
    )


def _attempt(case: Case, world: World, caller: Caller) -> tuple[httpx.Response, str | None]:
    fresh_id = case.fresh(world) if case.fresh else None
    body = case.body(world) if case.body else None
    path = _path(case, world, fresh_id)
    response = caller.request(case.method, path, json=body, params=case.params)
    return response, fresh_id


def test_every_role_gets_what_the_matrix_says(
    app_ctx: AppContext, http: httpx.Client, local_aws: Any
) -> None:
    world = _world(app_ctx, http, local_aws)
    callers = {
        role: new_caller(app_ctx, http, world.workspace_id, role, role) for role in authz.ROLES
    }
    elsewhere = accounts.create_workspace(app_ctx, f"other-{uuid.uuid4().hex[:6]}", "own", None)
    outsider = new_caller(app_ctx, http, elsewhere, "owner", "outsider")
    outsider.workspace_id = world.workspace_id  # asks for the workspace it is not in
    wrong: list[str] = []
    for case in CASES:
        for role, caller in callers.items():
            response, fresh_id = _attempt(case, world, caller)
            answer = response.json() if response.content else {}
            label = f"{role} {case.method} {case.path} ({case.permission})"
            if authz.allowed(role, case.permission):
                if response.status_code != case.ok:
                    wrong.append(f"{label}: allowed, got {response.status_code} {response.text}")
                elif case.expect_message and case.expect_message not in answer.get("message"):
                    wrong.append(f"{label}: allowed, answer {answer}")
                continue
            if response.status_code != 403 or str(case.permission) not in answer.get("message", ""):
                wrong.append(f"{label}: refused, got {response.status_code} {response.text}")
            if case.still and fresh_id is not None:
                kept = world.owner.request("GET", case.still.format(id=fresh_id))
                if kept.status_code != 200:
                    wrong.append(f"{label}: refused, yet the resource is gone")
        response, fresh_id = _attempt(case, world, outsider)
        answer = response.json() if response.content else {}
        if response.status_code != 404 or answer.get("field") != "workspaceId":
            wrong.append(f"outsider {case.method} {case.path}: {response.status_code} {answer}")
        if case.still and fresh_id is not None:
            kept = world.owner.request("GET", case.still.format(id=fresh_id))
            if kept.status_code != 200:
                wrong.append(f"outsider {case.method} {case.path}: the resource is gone")
    assert not wrong, "\n".join(wrong)
    covered = {case.permission for case in CASES}
    app = create_app(app_ctx)
    declared = {
        p for route in served_routes(app) if route.in_api for p in declared_permissions(route)
    }
    assert declared - covered <= UNTESTED_HERE, sorted(declared - covered)
