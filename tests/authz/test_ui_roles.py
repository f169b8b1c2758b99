"""The web UI applies the same matrix: a signed-in participant sees the pages its role may
read, and a form its role may not send answers a 403 page naming the permission, nothing
written; another workspace's run is not found.  Real HTTP with a session and CSRF token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batchforge.schemas.labels import CreateLabelRequest
from batchforge.services import accounts, authz, credentials, labels, pipeline_secrets, run_labels
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


def _label_ids(ctx: AppContext, lab: int, run: str) -> set[int]:
    return {label.id for label in run_labels.of_runs(ctx, lab, [run])[run]}


def test_run_label_forms_need_workflow_label_write(
    app_ctx: AppContext, server: str, http: httpx.Client, lab: int
) -> None:
    """The run page shows its labels (a resource label with its value, and no Remove); its
    add and remove forms are for workflow_label:write (maintain), 403 for launch and view."""
    run = make_run(app_ctx, lab)
    plain = labels.create(app_ctx, lab, CreateLabelRequest(name="qc-passed")).id
    other = labels.create(app_ctx, lab, CreateLabelRequest(name="urgent")).id
    tag = CreateLabelRequest(name="project", value="genomics", resource=True)
    resource = labels.create(app_ctx, lab, tag).id
    with app_ctx.db.transaction() as session:
        run_labels.record(session, run, [resource, plain])
    for role in ("launch", "view"):
        client, csrf = _session(app_ctx, server, http, lab, role)
        try:
            shown = client.get(f"/ui/runs/{run}")
            assert shown.status_code == 200
            assert "project=genomics" in shown.text and "qc-passed" in shown.text
            assert "/labels/add" not in shown.text and "/labels/remove" not in shown.text
            for how, label in (("add", other), ("remove", plain)):
                form = {"csrf_token": csrf, "labelId": str(label)}
                answer = client.post(f"/ui/runs/{run}/labels/{how}", data=form)
                assert answer.status_code == 403, (role, how, answer.status_code)
                assert str(Permission.WORKFLOW_LABEL_WRITE) in answer.text
        finally:
            client.close()
    assert _label_ids(app_ctx, lab, run) == {resource, plain}

    client, csrf = _session(app_ctx, server, http, lab, "maintain")
    try:
        page = client.get(f"/ui/runs/{run}").text
        assert 'aria-label="Remove label qc-passed"' in page
        assert 'aria-label="Remove label project"' not in page  # resource labels stay
        assert f'<option value="{other}">urgent</option>' in page
        assert f'<option value="{resource}">' not in page
        added = client.post(
            f"/ui/runs/{run}/labels/add", data={"csrf_token": csrf, "labelId": str(other)}
        )
        assert added.status_code == 303
        assert _label_ids(app_ctx, lab, run) == {resource, plain, other}
        removed = client.post(
            f"/ui/runs/{run}/labels/remove", data={"csrf_token": csrf, "labelId": str(plain)}
        )
        assert removed.status_code == 303
        assert _label_ids(app_ctx, lab, run) == {resource, other}
        # The service refuses removing a resource label: the page says so, nothing changes.
        refused = client.post(
            f"/ui/runs/{run}/labels/remove",
            data={"csrf_token": csrf, "labelId": str(resource)},
        )
        assert refused.status_code == 303
        assert "the label stays" in client.get(refused.headers["location"]).text
        assert _label_ids(app_ctx, lab, run) == {resource, other}
        listed = client.get("/ui/runs").text
        assert "project=genomics" in listed and "urgent" in listed
    finally:
        client.close()


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
