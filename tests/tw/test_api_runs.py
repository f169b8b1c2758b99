"""tw-shaped requests: ``tw runs``, ``tw secrets``, ``tw labels`` and ``tw data-links``.

Each case mirrors a request of seqeralabs/tower-cli's tests (named in ``source``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tw.conftest import REPO, Req, TwWorld, params, replay, unique

RUNS = "src/test/java/io/seqera/tower/cli/runs/RunsCmdTest.java"
TASKS = "src/test/java/io/seqera/tower/cli/runs/TasksCmdTest.java"
METRICS = "src/test/java/io/seqera/tower/cli/runs/MetricsCmdTest.java"
SECRETS = "src/test/java/io/seqera/tower/cli/secrets/SecretsCmdTest.java"
LABELS = "src/test/java/io/seqera/tower/cli/labels/LabelsCmdTest.java"
LINKS = "src/test/java/io/seqera/tower/cli/data/DataLinksCmdTest.java"


def _secret(world: TwWorld) -> dict[str, Any]:
    body = {"name": unique("name"), "value": "value03"}
    return {"sid": world.ok(world.call("POST", "/pipeline-secrets", body=body))["secretId"]}


def _label(world: TwWorld) -> dict[str, Any]:
    body = {"name": unique("lab"), "resource": False}
    return {"lid": world.ok(world.call("POST", "/labels", body=body))["id"]}


def _own_run(world: TwWorld) -> dict[str, Any]:
    launch = world.ok(world.call("GET", f"/pipelines/{world.pipeline_id}/launch"))["launch"]
    body = {"launch": {"computeEnvId": launch["computeEnv"]["id"], "pipeline": REPO,
                       "workDir": launch["workDir"]}}  # fmt: skip
    return {"own_run": world.ok(world.call("POST", "/workflow/launch", body=body))["workflowId"]}


def _only_names(*kinds: bool) -> Any:
    def check(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
        assert {label["resource"] for label in answer["labels"]} <= set(kinds), answer

    return check


CASES = [
    Req("runs-list", RUNS, "GET", "/workflow", needs_run=True,
        reads={"workflows[0].workflow.id": str, "workflows[0].workflow.runName": str,
               "workflows[0].workflow.status": str, "workflows[0].workflow.projectName": str,
               "workflows[0].workflow.userName": str, "workflows[0].workflow.submit": str}),
    Req("runs-list-page", RUNS, "GET", "/workflow", query={"offset": 0, "max": 2},
        needs_run=True, reads={"workflows": list}),
    Req("runs-list-search", RUNS, "GET", "/workflow", query={"search": "run-"},
        needs_run=True, reads={"workflows": list}),
    Req("runs-view", RUNS, "GET", "/workflow/{run_id}", needs_run=True,
        reads={"workflow.id": str, "workflow.runName": str, "workflow.sessionId": str,
               "workflow.workDir": str, "workflow.status": str, "workflow.commandLine": str,
               "jobInfo.operationId": str}),
    Req("runs-view-attributes", RUNS, "GET", "/workflow/{run_id}", needs_run=True,
        query={"attributes": "labels,optimized"}, reads={"workflow.id": str, "labels": list}),
    Req("runs-view-launch", RUNS, "GET", "/workflow/{run_id}/launch", needs_run=True,
        reads={"launch.computeEnv.id": str, "launch.computeEnv.name": str,
               "launch.sessionId": str, "launch.pipeline": str}),
    Req("runs-view-progress", RUNS, "GET", "/workflow/{run_id}/progress", needs_run=True,
        reads={"progress.workflowProgress.executors": list,
               "progress.workflowProgress.pending": int,
               "progress.workflowProgress.submitted": int,
               "progress.workflowProgress.running": int,
               "progress.workflowProgress.cached": int,
               "progress.workflowProgress.succeeded": int,
               "progress.workflowProgress.failed": int,
               "progress.workflowProgress.cpuTime": int,
               "progress.workflowProgress.memoryRss": int,
               "progress.workflowProgress.readBytes": int,
               "progress.workflowProgress.writeBytes": int,
               "progress.processesProgress": list}),
    Req("runs-dump-launch", RUNS, "GET", "/launch/{run_id}", needs_run=True,
        reads={"launch.pipeline": str, "launch.id": str}),
    Req("runs-tasks", TASKS, "GET", "/workflow/{run_id}/tasks", needs_run=True,
        reads={"tasks": list}),
    Req("runs-metrics", METRICS, "GET", "/workflow/{run_id}/metrics", needs_run=True,
        reads={"metrics": list}),
    Req("runs-view-missing", RUNS, "GET", "/workflow/5dAZoXrcmZXRO4", status=404),
    Req("runs-cancel", RUNS, "POST", "/workflow/{own_run}/cancel", setup=_own_run, body={},
        status=204),
    Req("runs-delete", RUNS, "DELETE", "/workflow/{own_run}", setup=_own_run,
        query={"force": "true"}, status=204),
    Req("secrets-list", SECRETS, "GET", "/pipeline-secrets",
        reads={"pipelineSecrets[0].id": int, "pipelineSecrets[0].name": str,
               "pipelineSecrets[0].dateCreated": str}),
    Req("secrets-add", SECRETS, "POST", "/pipeline-secrets",
        setup=lambda w: {"name": unique("name")}, body={"name": "{name}", "value": "value03"},
        reads={"secretId": int}),
    Req("secrets-add-duplicate", SECRETS, "POST", "/pipeline-secrets",
        body={"name": "name02", "value": "value03"}, status=400),  # the spec: 400, no 409
    Req("secrets-view", SECRETS, "GET", "/pipeline-secrets/{secret_id}",
        reads={"pipelineSecret.id": int, "pipelineSecret.name": str}),
    Req("secrets-update", SECRETS, "PUT", "/pipeline-secrets/{sid}", setup=_secret,
        body={"value": "updateValue"}, status=204),
    Req("secrets-delete", SECRETS, "DELETE", "/pipeline-secrets/{sid}", setup=_secret,
        status=204),
    Req("secrets-delete-missing", SECRETS, "DELETE", "/pipeline-secrets/164410928765888",
        status=404),
    Req("labels-list-all", LABELS, "GET", "/labels",
        query={"max": 100, "offset": 0, "type": "all"},
        reads={"labels[0].id": int, "labels[0].name": str, "labels[0].resource": bool,
               "totalSize": int}),
    Req("labels-list-simple", LABELS, "GET", "/labels",
        query={"max": 100, "offset": 0, "type": "simple"}, check=_only_names(False)),
    Req("labels-list-resource", LABELS, "GET", "/labels",
        query={"max": 100, "offset": 0, "type": "resource"}, check=_only_names(True)),
    Req("labels-search", LABELS, "GET", "/labels",
        query={"max": 100, "offset": 0, "search": "some_la"},
        check=lambda w, a, v: [x["name"] for x in a["labels"]] == ["some_label"]
        or pytest.fail(str(a))),
    Req("labels-add", LABELS, "POST", "/labels", setup=lambda w: {"name": unique("lab")},
        body={"name": "{name}", "resource": False}, reads={"id": int, "name": str}),
    Req("labels-add-resource", LABELS, "POST", "/labels",
        setup=lambda w: {"name": unique("res")},
        body={"name": "{name}", "value": "value", "resource": True},
        reads={"id": int, "value": str}),
    Req("labels-delete", LABELS, "DELETE", "/labels/{lid}", setup=_label, status=204),
    Req("labels-delete-missing", LABELS, "DELETE", "/labels/1234", status=404),
    Req("data-links-list", LINKS, "GET", "/data-links", query={"offset": 0, "max": 100},
        reads={"dataLinks": list, "totalSize": int}),
    Req("data-links-search", LINKS, "GET", "/data-links",
        query={"search": "adrian provider:aws region:us-east-1", "offset": 0, "max": 100},
        reads={"dataLinks": list}),
    Req("data-links-view-missing", LINKS, "GET", "/data-links/v1-somedatalinkid",
        query={"credentialsId": "{creds_id}"}, status=404),
    Req("data-links-delete-missing", LINKS, "DELETE", "/data-links/v1-datalinkid",
        status=404),
]  # fmt: skip


@pytest.mark.tw_request
@pytest.mark.parametrize("case", params(CASES))
def test_tw_request(tw_world: TwWorld, case: Req, request: pytest.FixtureRequest) -> None:
    run_id = request.getfixturevalue("tw_run") if case.needs_run else None
    replay(tw_world, case, run_id)
