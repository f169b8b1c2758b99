"""tw-shaped requests where the database matters, on PostgreSQL: pipeline versions (the
``pipeline_version`` table of migration 0012: the default flag moving, unique names per
pipeline) as ``tw pipelines update`` and ``tw pipelines versions`` drive them.

Source: src/test/java/io/seqera/tower/cli/pipelines/PipelinesCmdTest.java and
PipelineVersionsCmdTest.java (seqeralabs/tower-cli)."""

from __future__ import annotations

import pytest

from batchforge.local_aws import LocalAws
from batchforge.server.app import create_app
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.cli.conftest import serve
from tests.tw.conftest import REPO, build_world


@pytest.mark.tw_request
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_pipeline_versions_on_postgres(
    app_ctx: AppContext, admin_token: str, local_aws: LocalAws
) -> None:
    """Update the default version with a new revision twice (two new versions, each made
    the default), list them, rename one to a taken name (409), make the first the default
    again: its launch is what the pipeline launches."""
    with serve(create_app(app_ctx)) as url:
        world = build_world(app_ctx, admin_token, url, BatchJobs(), local_aws)
        try:
            made = world.new_pipeline("pg_pipe")
            pid, first = made["pipelineId"], made["version"]["id"]
            current = first
            for revision in ("v2", "v3"):
                body = {"name": "pg_pipe", "launch": {"pipeline": REPO, "revision": revision,
                                                      "computeEnvId": world.ce_id}}  # fmt: skip
                answer = world.ok(
                    world.call("POST", f"/pipelines/{pid}/versions/{current}", body=body)
                )
                current = answer["pipeline"]["version"]["id"]
                assert answer["pipeline"]["version"]["isDefault"] is True
            listed = world.ok(world.call("GET", f"/pipelines/{pid}/versions"))
            names = [entry["version"]["name"] for entry in listed["versions"]]
            assert names == ["pg_pipe-3", "pg_pipe-2", "pg_pipe-1"] and listed["totalSize"] == 3
            taken = world.call(
                "PUT", f"/pipelines/{pid}/versions/{first}/manage", body={"name": "pg_pipe-2"}
            )
            assert taken.status_code == 409 and isinstance(taken.json()["message"], str)
            world.ok(
                world.call(
                    "PUT", f"/pipelines/{pid}/versions/{first}/manage", body={"isDefault": True}
                ),
                204,
            )
            launch = world.ok(world.call("GET", f"/pipelines/{pid}/launch"))["launch"]
            assert launch["id"] == first and launch.get("revision") is None
            defaults = [
                e["version"]["isDefault"]
                for e in world.ok(world.call("GET", f"/pipelines/{pid}/versions"))["versions"]
            ]
            assert defaults == [True, False, False]
        finally:
            world.http.close()
