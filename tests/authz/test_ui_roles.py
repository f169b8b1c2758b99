"""The web UI applies the same matrix: a signed-in participant sees the pages its role may
read, and a form its role may not send answers a 403 page naming the permission, nothing
written; another workspace's run is not found.  Real HTTP with a session and CSRF token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batchforge.services import accounts, authz, credentials, pipeline_secrets
from batchforge.services.authz import Permission
from batchforge.services.context import AppContext
from batchforge.services.pipeline_secrets import Owner
from tests.authz.conftest import TIMEOUT, new_caller
from tests.server.hostile_ui import sign_in
from tests.trace.conftest import make_run


@pytest.fixture
def lab(app_ctx: AppContext, server: str, http: httpx.Client) -> int:
    return accounts.create_workspace(app_ctx, f"ui-{uuid.uuid4().hex[:6]}", "lab", None)


def _session(ctx: AppContext, server: str, http: httpx.Client, workspace: int, role: str) -> Any:
    caller = new_caller(ctx, http, workspace, role, f"ui-{role}")
    client = httpx.Client(base_url=server, timeout=TIMEOUT, headers={"Origin": server})
    return client, sign_in(client, caller.token)


@pytest.fixture
def sessions(
    app_ctx: AppContext, server: str, http: httpx.Client, lab: int
) -> Iterator[dict[str, tuple[httpx.Client, str]]]:
    made = {role: _session(app_ctx, server, http, lab, role) for role in authz.ROLES}
    yield made
    for client, _ in made.values():
        client.close()


def _credentials_form(csrf: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": f"ui-{uuid.uuid4().hex[:8]}",
        "accessKey": "AKIA" + uuid.uuid4().hex[:16].upper(),
        "secretKey": uuid.uuid4().hex + uuid.uuid4().hex[:8],
    }


def test_pages_and_forms_follow_the_matrix(
    app_ctx: AppContext, lab: int, sessions: dict[str, tuple[httpx.Client, str]]
) -> None:
    run = make_run(app_ctx, lab)
    wrong = []

    def expect(role: str, permission: Permission, answer: httpx.Response, ok: int) -> None:
        if authz.allowed(role, permission):
            if answer.status_code != ok:
                wrong.append(f"{role} {answer.request.url.path}: {answer.status_code}")
        elif answer.status_code != 403 or str(permission) not in answer.text:
            wrong.append(f"{role} {answer.request.url.path}: {answer.status_code} (refusal)")

    for role, (client, csrf) in sessions.items():
        expect(role, Permission.WORKSPACE_READ, client.get("/"), 200)
        expect(role, Permission.CREDENTIALS_READ, client.get("/ui/credentials"), 200)
        expect(role, Permission.WORKFLOW_READ, client.get(f"/ui/runs/{run}"), 200)
        expect(role, Permission.COMPUTE_ENVIRONMENT_WRITE, client.get("/ui/compute-envs/new"), 200)
        added = client.post("/ui/credentials", data=_credentials_form(csrf))
        expect(role, Permission.CREDENTIALS_WRITE, added, 303)
        form = {"csrf_token": csrf, "scope": "workspace", "name": f"W_{uuid.uuid4().hex[:6]}"}
        expect(
            role,
            Permission.PIPELINE_SECRETS_WRITE,
            client.post("/ui/secrets", data={**form, "value": "v"}),
            303,
        )
        # The user's own secrets need no workspace role.
        own = {**form, "scope": "user", "value": "v"}
        assert client.post("/ui/secrets", data=own).status_code == 303, role
        cancel = client.post(f"/ui/runs/{run}/cancel", data={"csrf_token": csrf})
        expect(role, Permission.WORKFLOW_WRITE, cancel, 303)
    assert not wrong, "\n".join(wrong)
    # Only owner and admin added credentials; owner, admin and maintain a workspace secret.
    assert len(credentials.list_all(app_ctx, lab)) == 2
    assert len(pipeline_secrets.list_secrets(app_ctx, Owner(workspace_id=lab))) == 3


def test_another_workspace_run_is_not_found(
    app_ctx: AppContext, server: str, http: httpx.Client, lab: int
) -> None:
    elsewhere = accounts.create_workspace(app_ctx, f"ui-{uuid.uuid4().hex[:6]}", "other", None)
    theirs = make_run(app_ctx, elsewhere)
    client, csrf = _session(app_ctx, server, http, lab, "owner")
    try:
        for path in (f"/ui/runs/{theirs}", f"/ui/runs/{theirs}/log", f"/ui/runs/{theirs}/tasks"):
            assert client.get(path).status_code == 404, path
        cancel = client.post(f"/ui/runs/{theirs}/cancel", data={"csrf_token": csrf})
        assert cancel.status_code in (303, 404)
        if cancel.status_code == 303:  # the error is shown on the (not found) run page
            assert client.get(cancel.headers["location"]).status_code == 404
    finally:
        client.close()
