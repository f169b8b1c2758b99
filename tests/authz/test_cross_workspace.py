"""A workspace's resources are invisible from another one: by id and by name, to read, list,
launch with or delete, the answer is what a resource that does not exist gets (404, or the
name is free), never its data; and nothing of the first workspace changes.

Alice owns workspace A (credentials, a compute environment, a pipeline, a run, a secret, a
data link, a label); Bob owns workspace B, with a compute environment of his own.  Bob asks
in B naming A's resources, and in A directly (404 ``workspaceId``).  Real HTTP (uvicorn on
loopback); SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from batchforge.client import BatchforgeClient
from batchforge.services import accounts
from batchforge.services.context import AppContext
from tests.authz.conftest import Caller, new_caller
from tests.explorer.conftest import make_bucket
from tests.factories import keys_credentials
from tests.runs.conftest import manual_env
from tests.trace.conftest import make_run

HELLO = "https://github.com/nextflow-io/hello"


@dataclass
class Holdings:
    """Alice's resources in workspace A (ids and names)."""

    workspace_id: int
    credentials: str
    credentials_name: str
    env: str
    env_name: str
    pipeline: int
    pipeline_name: str
    run: str
    secret: int
    secret_name: str
    link: str
    link_name: str
    label: int


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json() if response.content else None


def _holdings(ctx: AppContext, server: str, alice: Caller, local_aws: Any) -> Holdings:
    tag = uuid.uuid4().hex[:6]
    ws = alice.workspace_id
    assert ws is not None
    with BatchforgeClient(server, alice.token, ws) as api:
        credentials_name = f"alice-keys-{tag}"
        credentials = api.create_credentials(keys_credentials(credentials_name))
        env = manual_env(api, local_aws, credentials)
        env_name = api.describe_compute_env(env).name
    pipeline_name = f"alice-pipe-{tag}"
    pipeline = _ok(
        alice.request(
            "POST",
            "/pipelines",
            json={"name": pipeline_name, "launch": {"pipeline": HELLO, "computeEnvId": env}},
        )
    )["pipeline"]["pipelineId"]
    secret_name = f"ALICE_{tag.upper()}"
    secret = _ok(
        alice.request("POST", "/pipeline-secrets", json={"name": secret_name, "value": "s3cr3t"})
    )["secretId"]
    link_name = f"alice-link-{tag}"
    body = {
        "name": link_name,
        "resourceRef": f"s3://{make_bucket(local_aws)}",
        "credentialsId": credentials,
    }
    link = _ok(alice.request("POST", "/data-links", json=body))["id"]
    label = _ok(alice.request("POST", "/labels", json={"name": f"alice{tag}"}))["id"]
    run = make_run(ctx, ws)
    return Holdings(
        ws,
        credentials,
        credentials_name,
        env,
        env_name,
        pipeline,
        pipeline_name,
        run,
        secret,
        secret_name,
        link,
        link_name,
        label,
    )


@pytest.fixture
def setting(
    app_ctx: AppContext, server: str, http: httpx.Client, local_aws: Any
) -> Iterator[tuple[Holdings, Caller, str]]:
    ws_a = accounts.create_workspace(app_ctx, f"alpha-{uuid.uuid4().hex[:6]}", "a", None)
    ws_b = accounts.create_workspace(app_ctx, f"beta-{uuid.uuid4().hex[:6]}", "b", None)
    alice = new_caller(app_ctx, http, ws_a, "owner", "alice")
    bob = new_caller(app_ctx, http, ws_b, "owner", "bob")
    held = _holdings(app_ctx, server, alice, local_aws)
    with BatchforgeClient(server, bob.token, ws_b) as api:
        bob_env = manual_env(api, local_aws, api.create_credentials(keys_credentials("bob")))
    yield held, bob, bob_env
    # Nothing of A changed: Alice still reads each of her resources.
    for path in (
        f"/credentials/{held.credentials}",
        f"/compute-envs/{held.env}",
        f"/pipelines/{held.pipeline}",
        f"/workflow/{held.run}",
        f"/pipeline-secrets/{held.secret}",
        f"/data-links/{held.link}",
    ):
        assert alice.request("GET", path).status_code == 200, path
    labels = _ok(alice.request("GET", "/labels"))["labels"]
    assert [item["id"] for item in labels] == [held.label]


def _by_id(h: Holdings) -> list[tuple[str, str, Any]]:
    """Requests naming one of A's resources by id: (method, path, JSON body)."""
    return [
        ("GET", f"/credentials/{h.credentials}", None),
        ("PUT", f"/credentials/{h.credentials}", {"credentials": {"name": "stolen"}}),
        ("POST", f"/credentials/{h.credentials}/validate", None),
        ("DELETE", f"/credentials/{h.credentials}", None),
        ("GET", f"/compute-envs/{h.env}", None),
        ("POST", f"/compute-envs/{h.env}/disable", None),
        ("POST", f"/compute-envs/{h.env}/primary", None),
        ("DELETE", f"/compute-envs/{h.env}", None),
        ("GET", f"/pipelines/{h.pipeline}", None),
        ("GET", f"/pipelines/{h.pipeline}/launch", None),
        ("POST", f"/pipelines/{h.pipeline}/launch", {"launch": {}}),
        ("PUT", f"/pipelines/{h.pipeline}", {"name": "stolen"}),
        ("DELETE", f"/pipelines/{h.pipeline}", None),
        ("GET", f"/workflow/{h.run}", None),
        ("GET", f"/workflow/{h.run}/launch", None),
        ("GET", f"/workflow/{h.run}/progress", None),
        ("GET", f"/workflow/{h.run}/log", None),
        ("POST", f"/workflow/{h.run}/cancel", None),
        ("DELETE", f"/workflow/{h.run}", None),
        ("GET", f"/pipeline-secrets/{h.secret}", None),
        ("PUT", f"/pipeline-secrets/{h.secret}", {"value": "x"}),
        ("DELETE", f"/pipeline-secrets/{h.secret}", None),
        ("GET", f"/data-links/{h.link}", None),
        ("GET", f"/data-links/{h.link}/browse", None),
        ("POST", f"/data-links/{h.link}/folder/stolen", None),
        ("DELETE", f"/data-links/{h.link}", None),
        ("DELETE", f"/labels/{h.label}", None),
    ]


def test_by_id_from_another_workspace_is_not_found(
    setting: tuple[Holdings, Caller, str],
) -> None:
    held, bob, _ = setting
    wrong = []
    for method, path, body in _by_id(held):
        answer = bob.request(method, path, json=body)
        if answer.status_code != 404:
            wrong.append(f"in B: {method} {path} -> {answer.status_code} {answer.text}")
        answer = bob.request(method, path, json=body, workspace=held.workspace_id)
        if answer.status_code != 404 or answer.json().get("field") != "workspaceId":
            wrong.append(f"in A: {method} {path} -> {answer.status_code} {answer.text}")
    assert not wrong, "\n".join(wrong)


def test_lists_and_names_do_not_leak(setting: tuple[Holdings, Caller, str]) -> None:
    held, bob, _ = setting
    listed = {
        "/credentials": "credentials",
        "/compute-envs": "computeEnvs",
        "/pipelines": "pipelines",
        "/workflow": "workflows",
        "/pipeline-secrets": "pipelineSecrets",
        "/data-links": "dataLinks",
        "/labels": "labels",
    }
    theirs = {
        "/credentials": {held.credentials, held.credentials_name},
        "/compute-envs": {held.env, held.env_name},
        "/pipelines": {str(held.pipeline), held.pipeline_name},
        "/workflow": {held.run},
        "/pipeline-secrets": {str(held.secret), held.secret_name},
        "/data-links": {held.link, held.link_name},
        "/labels": {str(held.label)},
    }
    for path, key in listed.items():
        items = _ok(bob.request("GET", path))[key]
        seen = {str(item.get(k)) for item in items for k in ("id", "name", "pipelineId")}
        seen |= {str(item.get("workflow", {}).get("id")) for item in items}
        assert not seen & theirs[path], (path, items)
    # Searching by name finds nothing; A's names are free in B.
    for path, params in (
        ("/pipelines", {"search": held.pipeline_name}),
        ("/data-links", {"search": held.link_name}),
        ("/workflow", {"search": held.run}),
    ):
        found = _ok(bob.request("GET", path, params=params))
        assert found[listed[path]] == [], (path, found)
    for path, name in (
        ("/compute-envs/validate", held.env_name),
        ("/pipeline-secrets/validate", held.secret_name),
    ):
        answer = bob.request("GET", path, params={"name": name})
        assert answer.status_code == 204, (path, answer.text)
    # Naming A's credentials as a filter or a source.
    for method, path, params in (
        ("GET", "/data-links", {"credentialsId": held.credentials}),
        ("GET", "/data-links/cache/refresh", {"credentialsId": held.credentials}),
        (
            "GET",
            "/platforms/aws-batch",
            {"credentialsId": held.credentials, "regionId": "us-east-1"},
        ),
    ):
        answer = bob.request(method, path, params=params)
        assert answer.status_code == 404, (path, answer.status_code, answer.text)


def test_launch_and_create_with_another_workspace_s_resources(
    setting: tuple[Holdings, Caller, str],
) -> None:
    held, bob, bob_env = setting
    refused: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/workflow/launch", {"launch": {"computeEnvId": held.env, "pipeline": HELLO}}, ""),
        (
            "POST",
            "/workflow/launch",
            {
                "launch": {
                    "computeEnvId": bob_env,
                    "pipeline": HELLO,
                    "workspaceSecrets": [held.secret_name],
                }
            },
            "workspaceSecrets",
        ),
        (
            "POST",
            "/workflow/launch",
            {"launch": {"computeEnvId": bob_env, "pipeline": HELLO, "labelIds": [held.label]}},
            "labelIds",
        ),
        (
            "POST",
            "/pipelines",
            {"name": "copy", "launch": {"pipeline": HELLO, "computeEnvId": held.env}},
            "",
        ),
        (
            "POST",
            "/pipelines",
            {"name": "copy2", "launch": {"pipeline": HELLO}, "labelIds": [held.label]},
            "labelIds",
        ),
        (
            "POST",
            "/compute-envs",
            {
                "computeEnv": {
                    "name": "stolen",
                    "platform": "aws-batch",
                    "credentialsId": held.credentials,
                    "config": {"region": "us-east-1", "workDir": "s3://x/work"},
                }
            },
            "",
        ),
        (
            "POST",
            "/data-links",
            {"name": "stolen", "resourceRef": "s3://x", "credentialsId": held.credentials},
            "",
        ),
        (
            "POST",
            "/policy/preflight",
            {"credentialsId": held.credentials, "features": ["launch"]},
            "",
        ),
    ]
    wrong = []
    for method, path, body, field in refused:
        answer = bob.request(method, path, json=body)
        problem = answer.json() if answer.content else {}
        if answer.status_code not in (400, 404) or (field and field not in str(problem)):
            wrong.append(f"{method} {path} {body}: {answer.status_code} {answer.text}")
        if held.secret_name in answer.text and "workspaceSecrets" not in field:
            wrong.append(f"{method} {path}: names A's secret")
    assert not wrong, "\n".join(wrong)
    # Nothing was made in B by the refused requests.
    assert _ok(bob.request("GET", "/workflow"))["workflows"] == []
    assert _ok(bob.request("GET", "/pipelines"))["pipelines"] == []
    assert [e["id"] for e in _ok(bob.request("GET", "/compute-envs"))["computeEnvs"]] == [bob_env]
