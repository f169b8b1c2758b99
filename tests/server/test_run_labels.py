"""Run labels (``/workflow/labels/add|apply|remove``) and label update (``PUT /labels/{id}``):
what a run carries and shows (describe, list, ``label:`` search), a launched run's resource
labels staying as launched, bad input answered with the field named, the role matrix
(``workflow_label:write``: owner, admin, maintain; ``label:write`` likewise), and labels of
another workspace.  In-process app (TestClient), SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from batchforge.server.app import create_app
from batchforge.services import accounts, run_labels
from batchforge.services.context import AppContext
from tests.authz.conftest import grant
from tests.trace.conftest import make_run


@dataclass
class User:
    """A user of the app, asking in ``workspace_id`` unless told otherwise."""

    http: TestClient
    token: str
    workspace_id: int

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> httpx.Response:
        params = {"workspaceId": self.workspace_id, **query}
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, path, params=params, json=body, headers=headers)

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None

    def label(self, name: str, value: str | None = None) -> int:
        body = {"name": name, "value": value, "resource": value is not None}
        return int(self.ok(self.call("POST", "/labels", body))["id"])

    def names(self, run_id: str) -> list[str]:
        labels = self.ok(self.call("GET", f"/workflow/{run_id}"))["labels"]
        return [f"{x['name']}={x['value']}" if x["resource"] else x["name"] for x in labels]

    def change(self, how: str, runs: list[str], labels: list[int] | None) -> httpx.Response:
        body: dict[str, Any] = {"workflowIds": runs}
        if labels is not None:
            body["labelIds"] = labels
        return self.call("POST", f"/workflow/labels/{how}", body)


def refused(response: httpx.Response, status: int, field: str) -> str:
    """The error's message, after checking its status and that it names ``field``."""
    assert response.status_code == status, (response.status_code, response.text)
    answer = response.json()
    assert answer.get("field") == field, answer
    assert field.split("[")[0] in answer["message"], answer
    return str(answer["message"])


@pytest.fixture
def owner(app_ctx: AppContext) -> Iterator[User]:
    """The owner of a fresh workspace."""
    with TestClient(create_app(app_ctx), base_url="http://batchforge.test") as http:
        yield new_user(app_ctx, http, None, "owner")


def new_user(ctx: AppContext, http: TestClient, workspace_id: int | None, role: str) -> User:
    """A user with ``role`` in ``workspace_id`` (a new workspace of its own when None)."""
    user_id, token = accounts.create_user(ctx, f"{role}-{uuid.uuid4().hex[:6]}")
    if workspace_id is None:
        workspace_id = accounts.create_workspace(ctx, f"org{uuid.uuid4().hex[:6]}", "ws", None)
    grant(ctx, workspace_id, user_id, role)
    return User(http, token, workspace_id)


def launched(ctx: AppContext, workspace_id: int, *label_ids: int) -> str:
    """A run's row as a launch with ``labelIds`` records it."""
    run_id = make_run(ctx, workspace_id, status="SUCCEEDED", submit_state="done")
    with ctx.db.transaction() as session:
        run_labels.record(session, run_id, label_ids)
    return run_id


def test_add_apply_remove_show_and_search(app_ctx: AppContext, owner: User) -> None:
    alpha, beta = owner.label("alpha"), owner.label("beta")
    run = launched(app_ctx, owner.workspace_id, alpha)
    other = launched(app_ctx, owner.workspace_id)
    assert owner.names(run) == ["alpha"]

    owner.ok(owner.change("add", [run, other], [beta, beta]), 204)
    assert owner.names(run) == ["alpha", "beta"]
    assert owner.names(other) == ["beta"]
    owner.ok(owner.change("apply", [run], [beta]), 204)
    assert owner.names(run) == ["beta"]
    owner.ok(owner.change("add", [run], [alpha]), 204)
    owner.ok(owner.change("remove", [other], [beta]), 204)
    assert owner.names(other) == []

    listed = owner.ok(owner.call("GET", "/workflow"))["workflows"]
    shown = {w["workflow"]["id"]: sorted(x["name"] for x in w["labels"]) for w in listed}
    assert shown[run] == ["alpha", "beta"] and shown[other] == []
    found = owner.ok(owner.call("GET", "/workflow", search="label:ALPHA", attributes="labels"))
    assert [w["workflow"]["id"] for w in found["workflows"]] == [run]
    found = owner.ok(owner.call("GET", "/workflow", search="label:alpha label:nothing"))
    assert found["workflows"] == []
    refused(owner.call("GET", "/workflow", search="label:"), 400, "search")
    spaced = owner.label("needs review")
    owner.ok(owner.change("add", [other], [spaced]), 204)
    found = owner.ok(owner.call("GET", "/workflow", search='label:"needs review"'))
    assert [w["workflow"]["id"] for w in found["workflows"]] == [other]
    found = owner.ok(owner.call("GET", "/workflow", search="it's label:needs"))  # no pair
    assert found["workflows"] == []
    owner.ok(owner.change("remove", [other], [spaced]), 204)

    owner.ok(owner.change("remove", [run], []), 204)  # nothing to remove: unchanged
    assert owner.names(run) == ["alpha", "beta"]
    owner.ok(owner.change("apply", [run], []), 204)  # apply nothing: no labels
    assert owner.names(run) == []

    owner.ok(owner.change("add", [run], [alpha]), 204)
    owner.ok(owner.call("DELETE", f"/labels/{alpha}"), 204)  # a deleted label leaves runs
    assert owner.names(run) == []


def test_resource_labels_stay_as_launched(app_ctx: AppContext, owner: User) -> None:
    tagged, other = owner.label("project", "genomics"), owner.label("cost", "lab1")
    plain = owner.label("plain")
    run = launched(app_ctx, owner.workspace_id, tagged)

    message = refused(owner.change("add", [run], [plain, other]), 400, "labelIds[1]")
    assert "resource label" in message and "launch" in message
    refused(owner.change("apply", [run], [other]), 400, "labelIds[0]")
    refused(owner.change("remove", [run], [plain, tagged]), 400, "labelIds[1]")
    assert owner.names(run) == ["project=genomics"]

    owner.ok(owner.change("apply", [run], [plain]), 204)  # replaces the plain labels only
    assert owner.names(run) == ["plain", "project=genomics"]
    owner.ok(owner.change("apply", [run], [tagged]), 204)  # naming it again is fine
    assert owner.names(run) == ["project=genomics"]
    owner.ok(owner.change("remove", [run], [other]), 204)  # one it does not carry: nothing


def test_bad_input_names_the_field(app_ctx: AppContext, owner: User) -> None:
    mine = owner.label("mine")
    run = launched(app_ctx, owner.workspace_id)
    stranger = new_user(app_ctx, owner.http, None, "owner")
    theirs = stranger.label("theirs")
    their_run = launched(app_ctx, stranger.workspace_id)

    refused(owner.change("add", [run], [mine, 99999999]), 400, "labelIds[1]")
    refused(owner.change("add", [run], [theirs]), 400, "labelIds[0]")
    refused(owner.change("add", [run, their_run], [mine]), 404, "workflowIds[1]")
    refused(owner.change("apply", ["5dAZoXrcmZXRO4"], [mine]), 404, "workflowIds[0]")
    refused(owner.change("add", [], [mine]), 400, "workflowIds")
    refused(owner.call("POST", "/workflow/labels/add", {"labelIds": [mine]}), 400, "workflowIds")
    refused(owner.change("add", [run], None), 400, "labelIds")
    assert owner.names(run) == []
    assert stranger.names(their_run) == []  # nothing of the other workspace changed

    owner.ok(owner.call("DELETE", f"/workflow/{run}", force="true"), 204)
    refused(owner.change("add", [run], [mine]), 404, "workflowIds[0]")  # a deleted run


def test_who_may_label_runs(app_ctx: AppContext, owner: User) -> None:
    """workflow_label:write is owner, admin and maintain (Seqera's matrix): launch and view
    users may not label a run, though they see its labels."""
    label = owner.label("reviewed")
    run = launched(app_ctx, owner.workspace_id)
    users = {
        role: new_user(app_ctx, owner.http, owner.workspace_id, role)
        for role in ("admin", "maintain", "launch", "view")
    }
    for role in ("launch", "view"):
        response = users[role].change("add", [run], [label])
        assert response.status_code == 403, (role, response.text)
        assert "workflow_label:write" in response.json()["message"]
    assert owner.names(run) == []
    users["maintain"].ok(users["maintain"].change("add", [run], [label]), 204)
    assert users["view"].names(run) == ["reviewed"]
    users["admin"].ok(users["admin"].change("remove", [run], [label]), 204)
    assert users["launch"].names(run) == []


def test_update_label(app_ctx: AppContext, owner: User) -> None:
    plain = owner.label("draft")
    tagged = owner.label("project", "genomics")
    owner.label("taken")

    renamed = owner.ok(owner.call("PUT", f"/labels/{plain}", {"name": "final"}))
    assert renamed == {
        "id": plain, "name": "final", "value": None, "resource": False, "isDefault": False,
    }  # fmt: skip
    changed = owner.ok(owner.call("PUT", f"/labels/{tagged}", {"value": "proteomics"}))
    assert (changed["name"], changed["value"], changed["resource"]) == (
        "project", "proteomics", True,
    )  # fmt: skip
    flagged = owner.ok(owner.call("PUT", f"/labels/{plain}", {"isDefault": True}))
    assert (flagged["name"], flagged["isDefault"]) == ("final", True)
    listed = owner.ok(owner.call("GET", "/labels"))["labels"]
    assert {(x["name"], x["value"]) for x in listed} == {
        ("final", None), ("project", "proteomics"), ("taken", None),
    }  # fmt: skip

    refused(owner.call("PUT", f"/labels/{plain}", {"name": "taken"}), 409, "name")
    refused(owner.call("POST", "/labels", {"name": "taken"}), 409, "name")  # create: the same
    refused(owner.call("PUT", f"/labels/{plain}", {"value": "v"}), 400, "value")
    refused(owner.call("PUT", f"/labels/{tagged}", {"value": ""}), 400, "value")
    refused(owner.call("PUT", f"/labels/{plain}", {"name": "aws:x"}), 400, "name")
    refused(owner.call("PUT", f"/labels/{plain}", {"name": ""}), 400, "name")
    refused(owner.call("PUT", "/labels/99999999", {"name": "x"}), 404, "labelId")
    owner.ok(owner.call("PUT", f"/labels/{plain}", {"name": "final"}))  # its own name: fine

    stranger = new_user(app_ctx, owner.http, None, "owner")
    refused(stranger.call("PUT", f"/labels/{plain}", {"name": "mine"}), 404, "labelId")
    assert owner.ok(owner.call("GET", "/labels"))["totalSize"] == 3

    for role, status in (("maintain", 200), ("launch", 403), ("view", 403)):
        user = new_user(app_ctx, owner.http, owner.workspace_id, role)
        response = user.call("PUT", f"/labels/{plain}", {"name": f"by-{role}"})
        assert response.status_code == status, (role, response.text)
