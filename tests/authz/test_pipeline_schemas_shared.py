"""Pipeline schemas of a SHARED workspace's pipeline (real HTTP, SQLite and PostgreSQL): Bob,
in workspace B, describes the schema of A's pipeline with ``sourceWorkspaceId`` and launches
it in B, its parameters checked against A's schema; A PRIVATE, the schema is 404 to him; a
schema of A named in a launch of B without ``sourceWorkspaceId`` is a 400 naming it."""

from __future__ import annotations

import json
from typing import Any

from batchforge.services.context import AppContext
from tests.authz.test_shared_and_collaborators import Lab, _ok, _share, lab  # noqa: F401
from tests.runs.conftest import jobs  # noqa: F401  (a fixture)

HELLO = "https://github.com/nextflow-io/hello"
SCHEMA = {"type": "object", "properties": {"mode": {"type": "string", "enum": ["a", "b"]}}}


def _with_schema(world: Lab) -> int:
    """A's pipeline saved with A's schema and ``mode: a``; the schema's id."""
    made = world.alice.request("POST", "/pipeline-schemas", json={"content": json.dumps(SCHEMA)})
    schema_id = int(_ok(made)["pipelineSchema"]["id"])
    body = {"name": "shared-hello", "launch": {"pipeline": HELLO, "computeEnvId": world.alice_env,
            "pipelineSchemaId": schema_id, "paramsText": "mode: a\n"}}  # fmt: skip
    _ok(world.alice.request("PUT", f"/pipelines/{world.pipeline}", json=body))
    return schema_id


def test_shared_pipeline_schema_described_and_checked(app_ctx: AppContext, lab: Lab) -> None:  # noqa: F811
    schema_id = _with_schema(lab)
    bob, source = lab.bob, {"sourceWorkspaceId": lab.a}
    path = f"/pipelines/{lab.pipeline}"
    assert bob.request("GET", f"{path}/schema", params=source).status_code == 404  # PRIVATE
    _share(app_ctx, lab.a, "SHARED")
    answer = _ok(bob.request("GET", f"{path}/schema", params=source))
    assert json.loads(answer["schema"]) == SCHEMA and answer["params"] == "mode: a\n"

    good = {"launch": {"computeEnvId": lab.bob_env}}
    _ok(bob.request("POST", f"{path}/launch", params=source, json=good))
    bad = {"launch": {"computeEnvId": lab.bob_env, "paramsText": "mode: c\n"}}
    refused = bob.request("POST", f"{path}/launch", params=source, json=bad)
    assert refused.status_code == 400 and refused.json()["field"] == "launch.paramsText.mode"

    # As tw launch posts the launch it read (with the schema id the UI keeps).
    posted: dict[str, Any] = {"launch": {"pipeline": HELLO, "computeEnvId": lab.bob_env,
                                         "pipelineSchemaId": schema_id}}  # fmt: skip
    _ok(bob.request("POST", "/workflow/launch", params=source, json=posted))
    alone = bob.request("POST", "/workflow/launch", json=posted)
    assert alone.status_code == 400, alone.text
    assert alone.json()["field"] == "launch.pipelineSchemaId"
