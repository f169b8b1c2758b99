"""Pipeline schemas (Seqera's ``POST /pipeline-schemas``, ``GET /pipelines/{id}/schema``):
creating one (bad or oversized content a 400 naming ``content``), a launch's or pipeline's
``pipelineSchemaId`` (another workspace's a 400 naming it), ``schemaName`` stored and shown,
the schema described (200, 204, ``attributes``, ``versionId``), a launch's parameters checked
against the schema's declared properties (type, enum, pattern: a 400 naming
``paramsText.<param>``, nothing submitted; ``required`` and unknown parameters let through),
and the role matrix (``pipeline:write``; a ``view`` participant cannot create).  SQLite and
PostgreSQL (``database_url``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.local_aws import WORK_BUCKET
from batchforge.server.app import create_app
from batchforge.services import accounts
from batchforge.services.context import AppContext
from batchforge.services.pipeline_schemas import MAX_CONTENT
from tests.authz.conftest import grant
from tests.batchjobs import BatchJobs

REPO = "https://github.com/nextflow-io/hello"

# nf-core's layout: groups under definitions/$defs referred to by allOf, plus a top level one.
SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema",
    "title": "hello pipeline parameters",
    "type": "object",
    "definitions": {
        "input_output_options": {
            "title": "Input/output options",
            "type": "object",
            "required": ["outdir"],
            "properties": {
                "input": {"type": "string", "pattern": "^\\S+\\.csv$"},
                "outdir": {"type": "string", "format": "directory-path"},
            },
        },
        "tuning": {
            "type": "object",
            "properties": {
                "mode": {"type": "string", "enum": ["fast", "careful"]},
                "threads": {"type": "integer"},
                "ratio": {"type": "number"},
                "skip_qc": {"type": "boolean"},
            },
        },
    },
    "$defs": {"extra": {"type": "object", "properties": {"tags": {"type": "array"}}}},
    "allOf": [
        {"$ref": "#/definitions/input_output_options"},
        {"$ref": "#/definitions/tuning"},
        {"$ref": "#/$defs/extra"},
    ],
    "properties": {"seed": {"type": ["integer", "null"]}},
}


def _schema_id(api: BatchforgeClient, document: Any = None) -> int:
    content = json.dumps(SCHEMA if document is None else document)
    answer = api.request("POST", "/pipeline-schemas", json={"content": content}).json()
    assert answer["pipelineSchema"]["content"] == content
    return int(answer["pipelineSchema"]["id"])


def _refused(response: httpx.Response, status: int, field: str) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    answer = response.json()
    assert answer.get("field") == field, answer
    assert field in answer["message"], answer
    return str(answer["message"])


def _raw(api: BatchforgeClient, method: str, path: str, body: Any = None, **query: Any) -> Any:
    """The response, whatever its status (the client raises on 4xx)."""
    return api._http.request(method, path, json=body, params=query)


def _launch_body(env_id: str, **fields: Any) -> dict[str, Any]:
    return {"launch": {"computeEnvId": env_id, "pipeline": REPO, **fields}}


def _pipeline(api: BatchforgeClient, env_id: str, **launch: Any) -> dict[str, Any]:
    body = {
        "name": f"p{uuid.uuid4().hex[:8]}",
        "launch": {
            "pipeline": REPO,
            "computeEnvId": env_id,
            "workDir": f"s3://{WORK_BUCKET}/work",
            **launch,
        },
    }
    return api.request("POST", "/pipelines", json=body).json()["pipeline"]  # type: ignore[no-any-return]


def _runs(ctx: AppContext) -> int:
    with ctx.db.transaction() as session:
        return len(session.query(models.Run).all())


# --- create -------------------------------------------------------------------------------


def test_create_returns_id_and_content(api: BatchforgeClient, app_ctx: AppContext) -> None:
    first, second = _schema_id(api), _schema_id(api, {"type": "object"})
    assert first != second
    with app_ctx.db.transaction() as session:
        row = session.get(models.PipelineSchema, first)
        assert row is not None and json.loads(row.content) == SCHEMA
        assert row.creator_user_name


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "required"),
        ("", "required"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "JSON object"),
        ('"text"', "JSON object"),
        ('{"type": "strange"}', "not a valid JSON Schema"),
        ('{"properties": {"a": {"type": 5}}}', "not a valid JSON Schema"),
        ("{" + '"x": "' + "a" * MAX_CONTENT + '"}', "over the limit"),
    ],
)
def test_bad_content_is_400_naming_content(
    api: BatchforgeClient, app_ctx: AppContext, content: str | None, reason: str
) -> None:
    body = {} if content is None else {"content": content}
    message = _refused(_raw(api, "POST", "/pipeline-schemas", body), 400, "content")
    assert reason in message
    with app_ctx.db.transaction() as session:
        assert session.query(models.PipelineSchema).count() == 0


# --- launch and pipelines take pipelineSchemaId and schemaName ----------------------------


def test_launch_stores_schema_name_and_id(
    api: BatchforgeClient, env_id: str, jobs: BatchJobs
) -> None:
    schema_id = _schema_id(api)
    fields = {"schemaName": "nextflow_schema.json", "pipelineSchemaId": schema_id,
              "paramsText": "input: samples.csv\nthreads: 4\nmode: fast\n"}  # fmt: skip
    run_id = api.launch_workflow({"computeEnvId": env_id, "pipeline": REPO, **fields})
    launch = api.request("GET", f"/workflow/{run_id}/launch").json()["launch"]
    assert launch["schemaName"] == "nextflow_schema.json"
    assert launch["pipelineSchemaId"] == schema_id
    assert len(jobs.submits) == 1


def test_another_workspaces_schema_is_refused(
    api: BatchforgeClient, app_ctx: AppContext, env_id: str, jobs: BatchJobs
) -> None:
    with TestClient(create_app(app_ctx), base_url="http://batchforge.test") as http:
        other = _member(app_ctx, http, None, "owner")
        theirs = other.call("POST", "/pipeline-schemas", {"content": json.dumps(SCHEMA)})
        assert theirs.status_code == 200, theirs.text
    foreign = int(theirs.json()["pipelineSchema"]["id"])
    for schema_id in (foreign, 987654321):
        launched = _raw(api, "POST", "/workflow/launch",
                        _launch_body(env_id, pipelineSchemaId=schema_id))  # fmt: skip
        assert "does not exist in this workspace" in _refused(
            launched, 400, "launch.pipelineSchemaId"
        )
        body = {"name": f"p{uuid.uuid4().hex[:6]}",
                "launch": {"pipeline": REPO, "pipelineSchemaId": schema_id}}  # fmt: skip
        _refused(_raw(api, "POST", "/pipelines", body), 400, "launch.pipelineSchemaId")
    assert jobs.submits == [] and _runs(app_ctx) == 0


def test_pipeline_keeps_schema_and_launches_with_it(
    api: BatchforgeClient, env_id: str, jobs: BatchJobs
) -> None:
    schema_id = _schema_id(api)
    made = _pipeline(api, env_id, pipelineSchemaId=schema_id, schemaName="nextflow_schema.json",
                     paramsText="mode: fast\n")  # fmt: skip
    saved = api.request("GET", f"/pipelines/{made['pipelineId']}/launch").json()["launch"]
    assert saved["pipelineSchemaId"] == schema_id
    assert saved["schemaName"] == "nextflow_schema.json"
    run_id = api.request("POST", f"/pipelines/{made['pipelineId']}/launch").json()["workflowId"]
    launch = api.request("GET", f"/workflow/{run_id}/launch").json()["launch"]
    assert launch["pipelineSchemaId"] == schema_id
    # Saved params breaking the schema cannot be saved in the first place.
    bad = {"name": made["name"], "launch": {**saved, "paramsText": "mode: slow\n"}}
    _refused(_raw(api, "PUT", f"/pipelines/{made['pipelineId']}", bad), 400,
             "launch.paramsText.mode")  # fmt: skip
    assert len(jobs.submits) == 1


# --- describe ---------------------------------------------------------------------------


def test_describe_schema_200_204_attributes_version(api: BatchforgeClient, env_id: str) -> None:
    plain = _pipeline(api, env_id)
    empty = _raw(api, "GET", f"/pipelines/{plain['pipelineId']}/schema")
    assert empty.status_code == 204 and not empty.content
    schema_id = _schema_id(api)
    made = _pipeline(api, env_id, pipelineSchemaId=schema_id, paramsText="threads: 2\n")
    pid, first = made["pipelineId"], made["version"]["id"]
    answer = api.request("GET", f"/pipelines/{pid}/schema").json()
    assert json.loads(answer["schema"]) == SCHEMA and answer["params"] == "threads: 2\n"
    only = api.request("GET", f"/pipelines/{pid}/schema", params={"attributes": "params"})
    assert only.json() == {"params": "threads: 2\n"}
    only = api.request("GET", f"/pipelines/{pid}/schema", params={"attributes": "schema"})
    assert set(only.json()) == {"schema"}
    _refused(_raw(api, "GET", f"/pipelines/{pid}/schema", attributes="colour"), 400, "attributes")
    # A new default version without a schema: 204 for it, the first version still has one.
    update = {"name": made["name"], "launch": {"pipeline": REPO, "computeEnvId": env_id,
                                               "revision": "v2"}}  # fmt: skip
    api.request("POST", f"/pipelines/{pid}/versions/{first}", json=update)
    assert _raw(api, "GET", f"/pipelines/{pid}/schema").status_code == 204
    old = api.request("GET", f"/pipelines/{pid}/schema", params={"versionId": first}).json()
    assert json.loads(old["schema"]) == SCHEMA
    assert _raw(api, "GET", f"/pipelines/{pid}/schema", versionId="nope").status_code == 404
    assert _raw(api, "GET", "/pipelines/987654/schema").status_code == 404


# --- params checked against the schema ------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "param", "rule"),
    [
        ('{"threads": "four"}', "threads", "(type)"),
        ("threads: 2.5\n", "threads", "(type)"),
        ("skip_qc: 'yes'\n", "skip_qc", "(type)"),
        ("ratio: true\n", "ratio", "(type)"),
        ("tags: a\n", "tags", "(type)"),
        ("seed: x\n", "seed", "(type)"),
        ("mode: slow\n", "mode", "(enum)"),
        ('{"mode": "FAST"}', "mode", "(enum)"),
        ("input: samples.tsv\n", "input", "(pattern)"),
        ("input: 'my samples.csv'\n", "input", "(pattern)"),
        ("input: 5\n", "input", "(type)"),
    ],
)
def test_params_breaking_the_schema_are_400_and_nothing_is_submitted(
    api: BatchforgeClient,
    app_ctx: AppContext,
    env_id: str,
    jobs: BatchJobs,
    params: str,
    param: str,
    rule: str,
) -> None:
    schema_id = _schema_id(api)
    body = _launch_body(env_id, pipelineSchemaId=schema_id, paramsText=params)
    message = _refused(_raw(api, "POST", "/workflow/launch", body), 400,
                       f"launch.paramsText.{param}")  # fmt: skip
    assert rule in message
    assert jobs.submits == [] and _runs(app_ctx) == 0


def test_params_within_the_schema_launch(
    api: BatchforgeClient, env_id: str, jobs: BatchJobs
) -> None:
    """Declared values of the right kind pass; ``required`` (outdir) is not enforced and
    undeclared parameters are let through; without pipelineSchemaId nothing is checked."""
    schema_id = _schema_id(api)
    given = {"input": "s3://bucket/samples.csv", "threads": 4, "ratio": 0.5, "skip_qc": True,
             "mode": "careful", "tags": ["a"], "seed": None, "unknown": {"x": 1}}  # fmt: skip
    checked = {"pipelineSchemaId": schema_id, "paramsText": json.dumps(given)}
    api.launch_workflow({"computeEnvId": env_id, "pipeline": REPO, **checked})
    api.launch_workflow({"computeEnvId": env_id, "pipeline": REPO, "paramsText": "mode: slow\n"})
    assert len(jobs.submits) == 2


# --- roles ----------------------------------------------------------------------------------


class _Member:
    def __init__(self, http: TestClient, token: str, workspace_id: int) -> None:
        self.http, self.token, self.workspace_id = http, token, workspace_id

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> httpx.Response:
        params = {"workspaceId": self.workspace_id, **query}
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, path, params=params, json=body, headers=headers)


def _member(ctx: AppContext, http: TestClient, workspace_id: int | None, role: str) -> _Member:
    user_id, token = accounts.create_user(ctx, f"{role}-{uuid.uuid4().hex[:6]}")
    if workspace_id is None:
        workspace_id = accounts.create_workspace(ctx, f"org{uuid.uuid4().hex[:6]}", "ws", None)
    grant(ctx, workspace_id, user_id, role)
    return _Member(http, token, workspace_id)


@pytest.fixture
def http(app_ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(app_ctx), base_url="http://batchforge.test") as client:
        yield client


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("owner", True), ("admin", True), ("maintain", True), ("launch", False), ("view", False)],
)
def test_roles_that_may_create(
    app_ctx: AppContext, http: TestClient, role: str, allowed: bool
) -> None:
    owner = _member(app_ctx, http, None, "owner")
    caller = _member(app_ctx, http, owner.workspace_id, role)
    answer = caller.call("POST", "/pipeline-schemas", {"content": json.dumps(SCHEMA)})
    assert answer.status_code == (200 if allowed else 403), answer.text
    outsider = _member(app_ctx, http, None, "owner")
    outsider.workspace_id = owner.workspace_id
    refused = outsider.call("POST", "/pipeline-schemas", {"content": "{}"})
    assert refused.status_code in (403, 404), refused.text
