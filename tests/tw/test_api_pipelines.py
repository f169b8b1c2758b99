"""tw-shaped requests: ``tw pipelines`` (incl. versions and labels) and ``tw launch``.

Each case mirrors a request of seqeralabs/tower-cli's tests (named in ``source``)."""

from __future__ import annotations

from typing import Any

import pytest

from batchforge.local_aws import WORK_BUCKET
from tests.tw.conftest import PIPELINE, REPO, Req, TwWorld, params, replay, unique

PIPE = "src/test/java/io/seqera/tower/cli/pipelines/PipelinesCmdTest.java"
VERS = "src/test/java/io/seqera/tower/cli/pipelines/PipelineVersionsCmdTest.java"
LAUNCH = "src/test/java/io/seqera/tower/cli/LaunchCmdTest.java"
SCHEMAS = "src/test/java/io/seqera/tower/cli/pipelineschemas/PipelineSchemaCmdTest.java"
# PipelineSchemaCmdTest's SCHEMA_CONTENT shape (create_response.json's content).
SCHEMA_CONTENT = '{"type":"object","properties":{"input":{"type":"string"}}}'

VERSION_READS = {
    "pipeline.version.id": str,
    "pipeline.version.name": str,
    "pipeline.version.isDefault": bool,
    "pipeline.version.hash": str,
}


def _pipe(world: TwWorld) -> dict[str, Any]:
    made = world.new_pipeline()
    return {
        "pid": made["pipelineId"],
        "pname": made["name"],
        "vid": made["version"]["id"],
        "vname": made["version"]["name"],
    }


def _pipe_two_versions(world: TwWorld) -> dict[str, Any]:
    """A pipeline whose default version was updated with a new revision (a 2nd version)."""
    values = _pipe(world)
    body = {"name": values["pname"], "launch": {"pipeline": REPO, "revision": "v2.0",
                                                "computeEnvId": world.ce_id}}  # fmt: skip
    updated = world.ok(
        world.call("POST", f"/pipelines/{values['pid']}/versions/{values['vid']}", body=body)
    )
    values["v2"] = updated["pipeline"]["version"]["id"]
    return values


def _one_found(name: str) -> Any:
    def check(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
        assert [p["name"] for p in answer["pipelines"]] == [name]

    return check


def _none_found(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    assert answer["pipelines"] == [] and answer["totalSize"] == 0


def _new_version_made_default(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    version = answer["pipeline"]["version"]
    assert version["id"] != values["vid"] and version["isDefault"] is True
    assert version["name"] == f"{values['pname']}-2"
    launch = world.ok(world.call("GET", f"/pipelines/{values['pid']}/launch"))["launch"]
    assert launch["revision"] == "v2.0" and launch["id"] == version["id"]


def _same_version_updated(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    assert answer["pipeline"]["version"]["id"] == values["vid"]
    launch = world.ok(world.call("GET", f"/pipelines/{values['pid']}/launch"))["launch"]
    assert launch["workDir"] == f"s3://{WORK_BUCKET}/other"


def _saved_env(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    assert answer["launch"]["computeEnv"]["id"] == world.ce_id
    assert answer["launch"]["computeEnv"]["name"] == "demo"


def _version_launch(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    assert answer["launch"]["id"] == values["vid"] and answer["launch"].get("revision") is None


def _versions_listed(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    found = [entry["version"] for entry in answer["versions"]]
    assert [v["id"] for v in found] == [values["v2"], values["vid"]]
    assert [v["isDefault"] for v in found] == [True, False] and answer["totalSize"] == 2


def _default_now(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    pipeline = world.ok(world.call("GET", f"/pipelines/{values['pid']}"))["pipeline"]
    assert pipeline["version"]["id"] == values["vid"]
    assert pipeline["version"]["name"] == "first-release"


def _pipe_named_v1(world: TwWorld) -> dict[str, Any]:
    """A pipeline added as ``tw pipelines add --version-name v1.0``, whose default was then
    updated with a new revision (``{v2}``, the default now; v1.0 is not)."""
    name = unique("named")
    body = {"name": name, "version": {"name": "v1.0"},
            "launch": {"computeEnvId": world.ce_id, "pipeline": REPO,
                       "workDir": f"s3://{WORK_BUCKET}/work"}}  # fmt: skip
    made = world.ok(world.call("POST", "/pipelines", body=body))["pipeline"]
    values = {"pid": made["pipelineId"], "pname": name, "vid": made["version"]["id"]}
    update = {"name": name, "launch": {"pipeline": REPO, "revision": "v2.0",
                                       "computeEnvId": world.ce_id}}  # fmt: skip
    path = f"/pipelines/{values['pid']}/versions/{values['vid']}"
    values["v2"] = world.ok(world.call("POST", path, body=update))["pipeline"]["version"]["id"]
    return values


def _first_version_named(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    assert answer["pipeline"]["version"]["name"] == "v1.0"
    assert answer["pipeline"]["version"]["isDefault"] is True


def _found_v1(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    found = [e["version"] for e in answer["versions"] if e["version"]["name"] == "v1.0"]
    assert [v["id"] for v in found] == [values["vid"]] and found[0]["isDefault"] is False


def _v1_launch(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    """The named, non-default version's launch: no revision (v2's is v2.0)."""
    assert answer["launch"]["id"] == values["vid"] and answer["launch"].get("revision") is None


def _labelled(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    pipeline = world.ok(world.call("GET", f"/pipelines/{values['pid']}"))["pipeline"]
    assert [label["id"] for label in pipeline["labels"]] == [world.label_id]


def _schema(world: TwWorld) -> dict[str, Any]:
    """A schema added as ``tw pipeline-schemas add -c schema.json`` does."""
    made = world.call("POST", "/pipeline-schemas", body={"content": SCHEMA_CONTENT})
    return {"schema_id": world.ok(made)["pipelineSchema"]["id"], "name": unique("p")}


def _pipe_with_schema(world: TwWorld) -> dict[str, Any]:
    """A pipeline added with ``--pipeline-schema-id`` and ``--schema-name``."""
    values = _schema(world)
    made = world.new_pipeline(
        pipelineSchemaId=values["schema_id"],
        schemaName="nextflow_schema.json",
        paramsText="input: a.csv\n",
    )
    return {**values, "pid": made["pipelineId"], "vid": made["version"]["id"]}


def _schema_saved(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    pid = answer["pipeline"]["pipelineId"]
    launch = world.ok(world.call("GET", f"/pipelines/{pid}/launch"))["launch"]
    assert launch["pipelineSchemaId"] == values["schema_id"]
    assert launch["schemaName"] == "nextflow_schema.json"


def _schema_described(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    assert answer["schema"] == SCHEMA_CONTENT and answer["params"] == "input: a.csv\n"


def _run_has_schema(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    run_id = answer["workflowId"]
    launch = world.ok(world.call("GET", f"/workflow/{run_id}/launch"))["launch"]
    assert launch["pipelineSchemaId"] == values["schema_id"]
    assert launch["schemaName"] == "my_schema.json"


CASES = [
    Req("pipeline-schemas-add", SCHEMAS, "POST", "/pipeline-schemas",
        body={"content": SCHEMA_CONTENT},
        reads={"pipelineSchema.id": int, "pipelineSchema.content": str}),
    Req("pipeline-schemas-add-not-json", SCHEMAS, "POST", "/pipeline-schemas",
        body={"content": "input: string"}, status=400,
        check=lambda w, a, v: a["field"] == "content" or pytest.fail(str(a))),
    Req("pipelines-add-schema-id", PIPE, "POST", "/pipelines", setup=_schema,
        body={"name": "{name}", "launch": {"computeEnvId": "{ce_id}", "pipeline": REPO,
                                           "workDir": f"s3://{WORK_BUCKET}/work",
                                           "pipelineSchemaId": "{schema_id}",
                                           "schemaName": "nextflow_schema.json"}},
        reads={"pipeline.pipelineId": int, **VERSION_READS}, check=_schema_saved),
    Req("pipelines-add-schema-id-unknown", PIPE, "POST", "/pipelines",
        setup=lambda w: {"name": unique("p")},
        body={"name": "{name}", "launch": {"computeEnvId": "{ce_id}", "pipeline": REPO,
                                           "pipelineSchemaId": 98765432}},
        status=400,
        check=lambda w, a, v: a["field"] == "launch.pipelineSchemaId" or pytest.fail(str(a))),
    Req("pipelines-schema", PIPE, "GET", "/pipelines/{pid}/schema", setup=_pipe_with_schema,
        reads={"schema": str, "params": str}, check=_schema_described),
    Req("pipelines-schema-attributes", PIPE, "GET", "/pipelines/{pid}/schema",
        setup=_pipe_with_schema, query={"attributes": "schema,params", "versionId": "{vid}"},
        reads={"schema": str, "params": str}, check=_schema_described),
    Req("pipelines-schema-none", PIPE, "GET", "/pipelines/{pipeline_id}/schema", status=204),
    Req("launch-schema-id-and-name", LAUNCH, "POST", "/workflow/launch", setup=_schema,
        body={"launch": {"computeEnvId": "{ce_id}", "pipeline": REPO,
                         "workDir": f"s3://{WORK_BUCKET}/work", "schemaName": "my_schema.json",
                         "pipelineSchemaId": "{schema_id}"}},
        reads={"workflowId": str}, check=_run_has_schema),
    Req("pipelines-list", PIPE, "GET", "/pipelines",
        reads={"pipelines[0].pipelineId": int, "pipelines[0].name": str,
               "pipelines[0].repository": str, "pipelines[0].visibility": str,
               "totalSize": int}),
    Req("pipelines-list-page", PIPE, "GET", "/pipelines", query={"offset": 0, "max": 2},
        reads={"pipelines": list, "totalSize": int}),
    Req("pipelines-search-exact", PIPE, "GET", "/pipelines",
        query={"search": f'"{PIPELINE}"'}, check=_one_found(PIPELINE)),
    Req("pipelines-search-exact-all", VERS, "GET", "/pipelines",
        query={"search": f'"{PIPELINE}"', "visibility": "all"},
        reads={"pipelines[0].pipelineId": int, "pipelines[0].version.id": str},
        check=_one_found(PIPELINE)),
    Req("pipelines-search-exact-not-prefix", PIPE, "GET", "/pipelines",
        query={"search": '"sleep"'}, check=_none_found),
    Req("pipelines-search-nonexistent", VERS, "GET", "/pipelines",
        query={"search": '"nonexistent"', "visibility": "all"}, check=_none_found),
    Req("pipelines-view", PIPE, "GET", "/pipelines/{pipeline_id}",
        reads={"pipeline.pipelineId": int, "pipeline.name": str, **VERSION_READS}),
    Req("pipelines-view-labels", PIPE, "GET", "/pipelines/{pipeline_id}",
        query={"attributes": "labels"}, reads={"pipeline.labels": list, **VERSION_READS}),
    Req("pipelines-view-bad-attribute", PIPE, "GET", "/pipelines/{pipeline_id}",
        query={"attributes": "colour"}, status=400),
    Req("pipelines-view-missing", PIPE, "GET", "/pipelines/8858801873955", status=404),
    Req("pipelines-launch", PIPE, "GET", "/pipelines/{pipeline_id}/launch",
        reads={"launch.id": str, "launch.pipeline": str, "launch.workDir": str,
               "launch.computeEnv.id": str, "launch.computeEnv.config.workDir": str},
        check=_saved_env),
    Req("pipelines-launch-version", PIPE, "GET", "/pipelines/{pid}/launch",
        setup=_pipe_two_versions, query={"versionId": "{vid}"}, check=_version_launch),
    Req("pipelines-launch-version-missing", PIPE, "GET", "/pipelines/{pipeline_id}/launch",
        query={"versionId": "abc123"}, status=404),
    Req("pipelines-validate-name", PIPE, "GET", "/pipelines/validate",
        query={"name": "sleepOneMinute"}, status=204),
    Req("pipelines-validate-name-taken", PIPE, "GET", "/pipelines/validate",
        query={"name": PIPELINE}, status=409),
    Req("pipelines-validate-name-bad", PIPE, "GET", "/pipelines/validate",
        query={"name": "#sleep"}, status=400),
    Req("pipelines-add", PIPE, "POST", "/pipelines", setup=lambda w: {"name": unique("p")},
        body={"name": "{name}", "launch": {"computeEnvId": "{ce_id}", "pipeline": REPO,
                                           "workDir": f"s3://{WORK_BUCKET}/work",
                                           "paramsText": "timeout: 60\n"}},
        reads={"pipeline.pipelineId": int, **VERSION_READS}),
    Req("pipelines-add-version-name", PIPE, "POST", "/pipelines",
        setup=lambda w: {"name": unique("p")},
        body={"name": "{name}", "version": {"name": "v1.0"},
              "launch": {"computeEnvId": "{ce_id}", "pipeline": REPO,
                         "workDir": f"s3://{WORK_BUCKET}/work"}},
        reads={"pipeline.pipelineId": int, **VERSION_READS}, check=_first_version_named),
    Req("pipelines-add-version-name-invalid", PIPE, "POST", "/pipelines",
        setup=lambda w: {"name": unique("p")},
        body={"name": "{name}", "version": {"name": "!invalid!"},
              "launch": {"computeEnvId": "{ce_id}", "pipeline": REPO,
                         "workDir": f"s3://{WORK_BUCKET}/work"}},
        status=400,
        check=lambda w, a, v: a["message"].startswith("Invalid pipeline version name")
        or pytest.fail(str(a))),
    Req("versions-search-by-name", LAUNCH, "GET", "/pipelines/{pid}/versions",
        setup=_pipe_named_v1, query={"search": "v1.0", "isPublished": "true"},
        reads={"versions[0].version.id": str, "versions[0].version.name": str},
        check=_found_v1),
    Req("launch-version-name-describe", LAUNCH, "GET", "/pipelines/{pid}/launch",
        setup=_pipe_named_v1, query={"versionId": "{vid}"}, check=_v1_launch),
    Req("launch-version-name-submit", LAUNCH, "POST", "/workflow/launch",
        setup=_pipe_named_v1,
        body={"launch": {"id": "{vid}", "computeEnvId": "{ce_id}", "pipeline": REPO,
                         "workDir": f"s3://{WORK_BUCKET}/work", "pullLatest": False,
                         "stubRun": False}},
        reads={"workflowId": str}),
    Req("versions-manage-rename-taken", VERS, "PUT", "/pipelines/{pid}/versions/{v2}/manage",
        setup=_pipe_named_v1, body={"name": "v1.0"}, status=409),
    Req("versions-manage-rename-invalid", VERS, "PUT",
        "/pipelines/{pid}/versions/{v2}/manage", setup=_pipe_named_v1,
        body={"name": "!invalid!"}, status=400),
    Req("versions-manage-unset-default", VERS, "PUT",
        "/pipelines/{pid}/versions/{v2}/manage", setup=_pipe_named_v1,
        body={"isDefault": False}, status=409),
    Req("versions-manage-set-default", VERS, "PUT", "/pipelines/{pid}/versions/{vid}/manage",
        setup=_pipe_named_v1, body={"isDefault": True}, status=204,
        check=lambda w, a, v: w.ok(w.call("GET", f"/pipelines/{v['pid']}"))["pipeline"]
        ["version"]["name"] == "v1.0" or pytest.fail("v1.0 is not the default")),
    Req("pipelines-add-duplicate", PIPE, "POST", "/pipelines",
        body={"name": PIPELINE, "launch": {"pipeline": REPO, "computeEnvId": "{ce_id}"}},
        status=409),
    Req("pipelines-update-default-version-new-revision", PIPE, "POST",
        "/pipelines/{pid}/versions/{vid}", setup=_pipe,
        body={"name": "{pname}", "description": "Sleep one minute and exit",
              "launch": {"computeEnvId": "{ce_id}", "pipeline": REPO, "revision": "v2.0",
                         "workDir": f"s3://{WORK_BUCKET}/work", "pullLatest": False,
                         "stubRun": False}},
        reads=VERSION_READS, check=_new_version_made_default),
    Req("pipelines-update-default-version-in-place", PIPE, "POST",
        "/pipelines/{pid}/versions/{vid}", setup=_pipe,
        body={"name": "{pname}", "launch": {"computeEnvId": "{ce_id}", "pipeline": REPO,
                                            "workDir": f"s3://{WORK_BUCKET}/other"}},
        reads=VERSION_READS, check=_same_version_updated),
    Req("pipelines-update-put", PIPE, "PUT", "/pipelines/{pid}", setup=_pipe,
        body={"name": "{pname}", "description": "new"}, reads=VERSION_READS),
    Req("pipelines-update-version-missing", PIPE, "POST",
        "/pipelines/{pipeline_id}/versions/ver456",
        body={"name": PIPELINE, "launch": {"pipeline": REPO}}, status=404),
    Req("pipelines-delete", PIPE, "DELETE", "/pipelines/{pid}", setup=_pipe, status=204),
    Req("pipelines-delete-missing", PIPE, "DELETE", "/pipelines/183522618315672", status=404),
    Req("versions-list", VERS, "GET", "/pipelines/{pid}/versions", setup=_pipe_two_versions,
        reads={"versions[0].version.id": str, "versions[0].version.name": str,
               "versions[0].version.hash": str, "versions[0].version.isDefault": bool,
               "versions[0].version.creatorUserName": str,
               "versions[0].version.dateCreated": str, "totalSize": int},
        check=_versions_listed),
    Req("versions-list-page", VERS, "GET", "/pipelines/{pid}/versions",
        setup=_pipe_two_versions, query={"max": 2, "offset": 1},
        check=lambda w, a, v: [e["version"]["id"] for e in a["versions"]] == [v["vid"]]
        or pytest.fail(str(a))),
    Req("versions-search-published", VERS, "GET", "/pipelines/{pid}/versions",
        setup=_pipe_two_versions, query={"search": "{vname}", "isPublished": "true"},
        check=lambda w, a, v: [e["version"]["name"] for e in a["versions"]] == [v["vname"]]
        or pytest.fail(str(a))),
    Req("versions-search-nonexistent", PIPE, "GET", "/pipelines/{pipeline_id}/versions",
        query={"search": "nonexistent", "isPublished": "true"},
        check=lambda w, a, v: a["versions"] == [] or pytest.fail(str(a))),
    Req("versions-validate-name", PIPE, "GET", "/pipelines/{pid}/versions/validate",
        setup=_pipe, query={"name": "{pname}-2"}, status=204),
    Req("versions-validate-name-taken", PIPE, "GET", "/pipelines/{pid}/versions/validate",
        setup=_pipe, query={"name": "{vname}"}, status=409),
    Req("versions-manage", VERS, "PUT", "/pipelines/{pid}/versions/{vid}/manage",
        setup=_pipe_two_versions, body={"name": "first-release", "isDefault": True},
        status=204, check=_default_now),
    Req("versions-manage-missing", PIPE, "PUT",
        "/pipelines/{pipeline_id}/versions/draft456/manage",
        body={"name": "x-1", "isDefault": True}, status=404),
    Req("pipelines-labels-add", PIPE, "POST", "/pipelines/labels/add", setup=_pipe,
        body={"pipelineIds": ["{pid}"], "labelIds": ["{label_id}"]}, status=204,
        check=_labelled),
    Req("pipelines-labels-apply", PIPE, "POST", "/pipelines/labels/apply", setup=_pipe,
        body={"pipelineIds": ["{pid}"], "labelIds": ["{label_id}"]}, status=204,
        check=_labelled),
    Req("pipelines-labels-remove", PIPE, "POST", "/pipelines/labels/remove", setup=_pipe,
        body={"pipelineIds": ["{pid}"], "labelIds": ["{label_id}"]}, status=204),
    Req("pipelines-labels-apply-unknown", PIPE, "POST", "/pipelines/labels/apply",
        setup=_pipe, body={"pipelineIds": ["{pid}"], "labelIds": [20504124310835]},
        status=400),
    Req("launch-ce-available", LAUNCH, "GET", "/compute-envs", query={"status": "AVAILABLE"},
        reads={"computeEnvs[0].id": str, "computeEnvs[0].primary": bool}),
    Req("launch-saved-pipeline", LAUNCH, "POST", "/workflow/launch",
        body={"launch": {"id": "{vid}", "computeEnvId": "{ce_id}", "pipeline": REPO,
                         "workDir": f"s3://{WORK_BUCKET}/work", "pullLatest": False,
                         "stubRun": False}},
        setup=_pipe, reads={"workflowId": str}),
    Req("launch-url", LAUNCH, "POST", "/workflow/launch",
        body={"launch": {"computeEnvId": "{ce_id}", "pipeline": REPO,
                         "workDir": f"s3://{WORK_BUCKET}/work", "revision": "master",
                         "configProfiles": ["test"], "paramsText": "timeout: 60\n"}},
        reads={"workflowId": str}),
    Req("launch-missing-ce", LAUNCH, "POST", "/workflow/launch",
        body={"launch": {"computeEnvId": "4iqCDE6C2Stq0jzBsHJvHn", "pipeline": REPO,
                         "workDir": f"s3://{WORK_BUCKET}/work"}},
        status=404),
]  # fmt: skip


@pytest.mark.tw_request
@pytest.mark.parametrize("case", params(CASES))
def test_tw_request(tw_world: TwWorld, case: Req) -> None:
    replay(tw_world, case)
