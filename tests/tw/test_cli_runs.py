"""``tw`` command lines of the pipeline groups (launch, pipelines, runs, secrets, labels,
data-links) run as ``batchforge`` against a live server: one case per command line, asserting
the exit code and the effect.  Sources (seqeralabs/tower-cli): ``USAGE.md`` and the tests
``LaunchCmdTest``, ``PipelinesCmdTest``, ``PipelineVersionsCmdTest``, ``RunsCmdTest``,
``TasksCmdTest``, ``TaskCmdTest``, ``MetricsCmdTest``, ``SecretsCmdTest``, ``LabelsCmdTest``,
``DataLinksCmdTest`` (named per case).  Names the world already has are adapted (e.g. a new
pipeline gets a free name)."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import Result

from batchforge.local_aws import WORK_BUCKET
from tests.runs.conftest import jobs  # noqa: F401 - the fixture
from tests.tw.cli_runs_support import PIPELINE, World, database_url, world  # noqa: F401

Check = Callable[[World, Result], None]


@dataclass
class Case:
    source: str
    args: list[str]
    check: Check
    stdin: str | None = None
    xfail: str | None = None
    setup: Callable[[World], None] | None = None


def ok(w: World, r: Result) -> None:
    assert r.exit_code == 0, r.output


def exits(code: int, text: str = "") -> Check:
    def check(w: World, r: Result) -> None:
        assert r.exit_code == code, r.output
        assert text in r.output

    return check


def all_of(*checks: Check) -> Check:
    def check(w: World, r: Result) -> None:
        for one in checks:
            one(w, r)

    return check


def new_run(test: Callable[[dict[str, Any]], bool]) -> Check:
    """The command launched a new run whose launch passes ``test``."""

    def check(w: World, r: Result) -> None:
        ok(w, r)
        run_id = w.newest_run()
        assert run_id != w.run_id
        launch = w.launch_of(run_id)
        assert test(launch), json.dumps(launch)

    return check


def pipeline_is(name: str, test: Callable[[dict[str, Any]], bool]) -> Check:
    """Pipeline ``name`` exists and its launch passes ``test``."""

    def check(w: World, r: Result) -> None:
        ok(w, r)
        found = w.pipelines()
        assert name in found, (found, r.output)
        launch = w.api.describe_pipeline_launch(found[name].pipelineId).model_dump(mode="json")
        assert test(launch), json.dumps(launch)

    return check


def output_has(*texts: str) -> Check:
    def check(w: World, r: Result) -> None:
        ok(w, r)
        for text in texts:
            assert text.format(**w.values()) in r.output, r.output

    return check


def secret_value_warned(w: World, r: Result) -> None:
    ok(w, r)
    assert "shell history" in r.stderr


def secrets_named(*names: str, absent: tuple[str, ...] = ()) -> Check:
    def check(w: World, r: Result) -> None:
        ok(w, r)
        have = {s.name for s in w.api.list_secrets()}
        assert set(names) <= have and not set(absent) & have, have

    return check


def labels_named(*names: str, absent: tuple[str, ...] = ()) -> Check:
    def check(w: World, r: Result) -> None:
        ok(w, r)
        have = {label.name for label in w.api.list_labels()}
        assert set(names) <= have and not set(absent) & have, have

    return check


def run_status_in(*statuses: str) -> Check:
    def check(w: World, r: Result) -> None:
        ok(w, r)
        assert w.api.describe_workflow(w.run_id).workflow.status in statuses

    return check


def run_deleted(w: World, r: Result) -> None:
    ok(w, r)
    assert w.run_id not in {x.workflow.id for x in w.api.list_workflows().workflows}


def dumped(w: World, r: Result) -> None:
    ok(w, r)
    with tarfile.open(w.tmp / "file.tar.gz") as tar:
        names = set(tar.getnames())
    assert {"workflow.json", "workflow-launch.json", "workflow-tasks.json"} <= names, names


def json_field(path: list[Any], expected: Any) -> Check:
    def check(w: World, r: Result) -> None:
        value = w.json(r)
        for key in path:
            value = value[key]
        assert value == expected, value

    return check


def export_file(w: World) -> None:
    exported = w.run(["pipelines", "export", "-n", PIPELINE, "{file_export}"])
    assert exported.exit_code == 0, exported.output


def relaunched(w: World, r: Result) -> None:
    ok(w, r)
    assert w.newest_run() != w.run_id


def link_named(name: str, present: bool = True) -> Check:
    def check(w: World, r: Result) -> None:
        ok(w, r)
        names = {link.name for link in w.api.list_data_links(None, None, "all").dataLinks}
        assert (name in names) == present, names

    return check


def head_job_resources(expected: dict[str, str]) -> Check:
    """The head job was submitted to AWS Batch with ``expected`` resources."""

    def check(w: World, r: Result) -> None:
        ok(w, r)
        assert w.jobs is not None and w.jobs.submits
        overrides = w.jobs.submits[-1]["containerOverrides"]
        found = {x["type"]: x["value"] for x in overrides["resourceRequirements"]}
        assert found == expected, found

    return check


def version_listed(pipeline: str, version: str) -> Check:
    def check(w: World, r: Result) -> None:
        listed = w.run(["-o", "json", "pipelines", "versions", "list", "-n", pipeline])
        names = [v["version"]["name"] for v in w.json(listed)["versions"]]
        assert version in names, names

    return check


def named_version(name: str, params: str) -> Callable[[World], None]:
    """Setup: the world's pipeline gets a version ``name`` with ``params``, which is not the
    default (the default keeps the world's launch)."""

    def setup(w: World) -> None:
        pid = w.pipeline_id
        pipeline = w.api.request("GET", f"/pipelines/{pid}").json()["pipeline"]
        first = pipeline["version"]["id"]
        launch = w.api.request("GET", f"/pipelines/{pid}/launch").json()["launch"]
        launch = {k: v for k, v in launch.items() if k not in ("id", "computeEnv")}
        body = {"name": PIPELINE, "launch": {**launch, "paramsText": params}}
        made = w.api.request("POST", f"/pipelines/{pid}/versions/{first}", json=body).json()
        version = made["pipeline"]["version"]["id"]
        w.api.request("PUT", f"/pipelines/{pid}/versions/{version}/manage", json={"name": name})
        w.api.request("PUT", f"/pipelines/{pid}/versions/{first}/manage", json={"isDefault": True})

    return setup


SCHEMA = '{"type":"object","properties":{"timeout":{"type":"integer"}}}'


def schema_file(w: World) -> None:
    """``{file_schema}``: a schema file, as PipelineSchemaCmdTest writes one."""
    path = w.tmp / "schema.json"
    path.write_text(SCHEMA)
    w.files["schema"] = path


def saved_schema(w: World) -> None:
    """``{schema_id}``: a schema saved in the workspace."""
    answer = w.api.request("POST", "/pipeline-schemas", json={"content": SCHEMA}).json()
    w.extra["schema_id"] = answer["pipelineSchema"]["id"]


def schema_added(w: World, r: Result) -> None:
    ok(w, r)
    assert "New pipeline schema '" in r.output, r.output
    schema_id = int(r.output.split("'")[1])
    with w.server.ctx.db.transaction() as session:
        from batchforge.db import models

        row = session.get(models.PipelineSchema, schema_id)
        assert row is not None and row.content == SCHEMA


S = "launch"
CASES: dict[str, Case] = {
    # --- launch -------------------------------------------------------------------------------
    "launch-saved": Case(
        "LaunchCmdTest: launch sarek; USAGE: tw launch my_rnaseq_nf_pipeline",
        ["launch", PIPELINE],
        new_run(lambda x: x["pipeline"].endswith("nf-sleep") and x["computeEnv"]["name"] == "demo"),
    ),
    "launch-url": Case(
        "LaunchCmdTest: launch https://github.com/nextflow-io/hello (primary environment)",
        ["launch", "https://github.com/nextflow-io/hello"],
        new_run(lambda x: x["workDir"].endswith("/work") and x["preRunScript"] == "echo ce-pre"),
    ),
    "launch-url-workspace": Case(
        "LaunchCmdTest: launch https://github.com/nextflow-io/hello -w WSP",
        ["launch", "https://github.com/nextflow-io/hello", "-w", "{workspace}"],
        new_run(lambda x: x["pipeline"].endswith("hello")),
    ),
    "launch-run-name": Case(
        "LaunchCmdTest: launch sarek -n custom_run_name",
        ["launch", PIPELINE, "-n", "custom_run_name"],
        new_run(lambda x: x.get("runName") == "custom_run_name"),
    ),
    "launch-advanced": Case(
        "LaunchCmdTest: launch sarek -p test,docker -r develop --work-dir … --config … "
        "--pull-latest --stub-run --pre-run … --post-run … --main-script alternate.nf "
        "--entry-name dsl2 --schema-name my_schema.json --disable-optimization",
        [
            "launch",
            PIPELINE,
            "-p",
            "test,docker",
            "-r",
            "develop",
            "--work-dir",
            f"s3://{WORK_BUCKET}/my_work_dir",
            "--config",
            "{file_config}",
            "--pull-latest",
            "--stub-run",
            "--pre-run",
            "{file_pre}",
            "--post-run",
            "{file_post}",
            "--main-script",
            "alternate.nf",
            "--entry-name",
            "dsl2",
            "--disable-optimization",
        ],
        new_run(
            lambda x: (
                x["configProfiles"] == ["test", "docker"]
                and x["revision"] == "develop"
                and x["workDir"] == f"s3://{WORK_BUCKET}/my_work_dir"
                and x["configText"] == "process.cpus = 3\n"
                and x["preRunScript"] == "echo pre_run_this\n"
                and x["postRunScript"] == "echo post_run_this\n"
                and x["pullLatest"]
                and x["stubRun"]
                and x["mainScript"] == "alternate.nf"
                and x["entryName"] == "dsl2"
            )
        ),
    ),
    "launch-schema-name": Case(
        "LaunchCmdTest (same line as launch-advanced): --schema-name my_schema.json",
        ["launch", PIPELINE, "--schema-name", "my_schema.json"],
        new_run(lambda x: x["schemaName"] == "my_schema.json"),
    ),
    "launch-labels": Case(
        "LaunchCmdTest: launch sarek -l LabelTwo,LabelThree,ResourceLabelTwo=ValueTwo,…",
        ["launch", PIPELINE, "-l", "LabelTwo,LabelThree,ResourceLabelTwo=ValueTwo"],
        all_of(
            new_run(lambda x: len(x["labelIds"]) == 3),
            labels_named("LabelTwo", "LabelThree", "ResourceLabelTwo"),
        ),
    ),
    "launch-params-file": Case(
        "USAGE: tw launch my_rnaseq_nf_pipeline --params-file=my_rnaseq_nf_pipeline_params_2.yaml",
        ["launch", PIPELINE, "--params-file={file_params2}"],
        new_run(lambda x: x["paramsText"] == "timeout: 120\n"),
    ),
    "launch-unsaved-usage": Case(
        "USAGE: tw launch https://github.com/nf-core/rnaseq --params-file=… --compute-env=… "
        "--revision 3.8.1 --profile=test,docker",
        [
            "launch",
            "https://github.com/nf-core/rnaseq",
            "--params-file={file_params}",
            "--compute-env=demo",
            "--revision",
            "3.8.1",
            "--profile=test,docker",
        ],
        new_run(lambda x: x["revision"] == "3.8.1" and x["configProfiles"] == ["test", "docker"]),
    ),
    "launch-params-stdin": Case(
        "LaunchCmd --params-file: \"Use '-' to read from stdin\" (issue #14: was a traceback)",
        ["launch", PIPELINE, "--params-file", "-"],
        new_run(lambda x: x["paramsText"] == "greeting: from-stdin\n"),
        stdin="greeting: from-stdin\n",
    ),
    "launch-head-job": Case(
        "LaunchCmd: --head-job-cpus 2 --head-job-memory 4096 (the head job's Batch resources)",
        ["launch", PIPELINE, "--head-job-cpus", "2", "--head-job-memory", "4096"],
        head_job_resources({"VCPU": "2", "MEMORY": "4096"}),
    ),
    "launch-wait": Case(
        "LaunchCmd: --wait SUBMITTED (exit 0 when reached; tests/runs/test_cli.py waits for "
        "SUCCEEDED with the tracker running)",
        ["launch", PIPELINE, "--wait", "SUBMITTED"],
        output_has("SUBMITTED"),
    ),
    "launch-wait-bad-status": Case(
        "LaunchCmd --wait takes a WorkflowStatus: another value is a usage error (exit 2)",
        ["launch", PIPELINE, "--wait", "DONE"],
        exits(2),
    ),
    "launch-missing": Case(
        "LaunchCmdTest: a pipeline not in the workspace is an error (exit 1)",
        ["launch", "nope"],
        exits(1, "not found"),
    ),
    "launch-version-name": Case(
        "LaunchCmdTest: launch sarek --version-name release-1.0",
        ["launch", PIPELINE, "--version-name", "release-1.0"],
        new_run(lambda x: x["paramsText"] == "release: 1\n"),
        setup=named_version("release-1.0", "release: 1\n"),
    ),
    # --- pipeline schemas ---------------------------------------------------------------------
    "pipeline-schemas-add": Case(
        "PipelineSchemaCmdTest: pipeline-schemas add -c schema.json",
        ["pipeline-schemas", "add", "-c", "{file_schema}"],
        schema_added,
        setup=schema_file,
    ),
    "pipeline-schemas-add-workspace": Case(
        "PipelineSchemaCmdTest: pipeline-schemas add -c schema.json -w WSP",
        ["pipeline-schemas", "add", "-c", "{file_schema}", "-w", "{workspace}"],
        schema_added,
        setup=schema_file,
    ),
    "pipeline-schemas-add-missing-file": Case(
        "PipelineSchemaCmdTest: pipeline-schemas add -c /nonexistent/path/schema.json",
        ["pipeline-schemas", "add", "-c", "/nonexistent/path/schema.json"],
        exits(1, "/nonexistent/path/schema.json"),
    ),
    "pipelines-add-schema-id": Case(
        "PipelinesCmdTest (AddCmd --pipeline-schema-id, LaunchOptions --schema-name)",
        [
            "pipelines",
            "add",
            "-n",
            "with_schema",
            "--pipeline-schema-id",
            "{schema_id}",
            "--schema-name",
            "nextflow_schema.json",
            "--params-file",
            "{file_params}",
            "{repo}",
        ],
        pipeline_is(
            "with_schema",
            lambda x: (
                x["pipelineSchemaId"] is not None and x["schemaName"] == "nextflow_schema.json"
            ),
        ),
        setup=saved_schema,
    ),
    "pipelines-update-schema-id": Case(
        "PipelinesCmdTest (UpdateCmd --pipeline-schema-id)",
        ["pipelines", "update", "-n", PIPELINE, "--pipeline-schema-id", "{schema_id}"],
        pipeline_is(PIPELINE, lambda x: x["pipelineSchemaId"] is not None),
        setup=saved_schema,
    ),
    "launch-schema-id-checks-params": Case(
        "beyond tw: a saved pipeline with a schema; params of the wrong type are refused",
        ["launch", "with_schema_bad", "--params-file", "{file_params_bad}"],
        exits(1, "paramsText.timeout"),
        setup=lambda w: _pipeline_with_schema(w, "with_schema_bad"),
    ),
    # --- pipelines ----------------------------------------------------------------------------
    "pipelines-add-params": Case(
        "PipelinesCmdTest: pipelines add -n sleep_one_minute --params-file … <url>",
        ["pipelines", "add", "-n", "sleep_two", "--params-file", "{file_params}", "{repo}"],
        pipeline_is("sleep_two", lambda x: x["paramsText"] == "timeout: 60\n"),
    ),
    "pipelines-add-ce": Case(
        "PipelinesCmdTest: pipelines add -n demo -c demo <url>",
        ["pipelines", "add", "-n", "demo", "-c", "demo", "{repo}"],
        pipeline_is("demo", lambda x: x["workDir"].endswith("/work")),
    ),
    "pipelines-add-scripts": Case(
        "PipelinesCmdTest: pipelines add -n staging --work-dir … --pre-run … --post-run … <url>",
        [
            "pipelines",
            "add",
            "-n",
            "staging",
            "--work-dir",
            "s3://nextflow-ci/staging",
            "--pre-run",
            "{file_pre}",
            "--post-run",
            "{file_post}",
            "{repo}",
        ],
        pipeline_is(
            "staging",
            lambda x: (
                x["workDir"] == "s3://nextflow-ci/staging"
                and x["preRunScript"] == "echo pre_run_this\n"
            ),
        ),
    ),
    "pipelines-add-labels": Case(
        "PipelinesCmdTest: pipelines add -n sleep_one_minute --labels bad_label <url>",
        ["pipelines", "add", "-n", "labelled", "--labels", "bad_label", "{repo}"],
        all_of(pipeline_is("labelled", lambda x: True), labels_named("bad_label")),
    ),
    "pipelines-add-usage": Case(
        "USAGE: tw pipelines add --name=my_rnaseq_nf_pipeline --params-file=… "
        "https://github.com/nextflow-io/rnaseq-nf",
        [
            "pipelines",
            "add",
            "--name=my_rnaseq_nf_pipeline",
            "--params-file={file_params}",
            "https://github.com/nextflow-io/rnaseq-nf",
        ],
        pipeline_is("my_rnaseq_nf_pipeline", lambda x: x["pipeline"].endswith("rnaseq-nf")),
    ),
    "pipelines-add-commit": Case(
        "PipelinesCmdTest: pipelines add -n sleep_one_minute --commit-id a1b2… <url>",
        ["pipelines", "add", "-n", "pinned", "--commit-id", "a1b2c3d4e5f6", "{repo}"],
        pipeline_is("pinned", lambda x: x["commitId"] == "a1b2c3d4e5f6"),
    ),
    "pipelines-add-version-name": Case(
        "PipelinesCmdTest: pipelines add -n sleep_one_minute --version-name v1.0 <url>",
        ["pipelines", "add", "-n", "versioned", "--version-name", "v1.0", "{repo}"],
        all_of(pipeline_is("versioned", lambda x: True), version_listed("versioned", "v1.0")),
    ),
    "pipelines-list": Case(
        "PipelinesCmdTest: pipelines list", ["pipelines", "list"], output_has(PIPELINE)
    ),
    "pipelines-list-workspace": Case(
        "PipelinesCmdTest: pipelines list -w WSP",
        ["pipelines", "list", "-w", "{workspace}"],
        output_has(PIPELINE),
    ),
    "pipelines-list-offset": Case(
        "PipelinesCmdTest: pipelines list --offset 1 --max 2",
        ["-o", "json", "pipelines", "list", "--offset", "1", "--max", "2"],
        json_field(["pipelines"], []),
    ),
    "pipelines-list-page": Case(
        "PipelinesCmdTest: pipelines list --page 1 --max 2",
        ["-o", "json", "pipelines", "list", "--page", "1", "--max", "2"],
        json_field(["pipelines", 0, "name"], PIPELINE),
    ),
    "pipelines-list-page-and-offset": Case(
        "PipelinesCmdTest: pipelines list --page 1 --offset 0 --max 2 is refused",
        ["pipelines", "list", "--page", "1", "--offset", "0", "--max", "2"],
        exits(1, "--page or --offset"),
    ),
    "pipelines-view-name": Case(
        "PipelinesCmdTest: pipelines view -n sleep_one_minute",
        ["pipelines", "view", "-n", PIPELINE],
        output_has(PIPELINE, "nf-sleep"),
    ),
    "pipelines-view-id": Case(
        "PipelineRefOptions: pipelines view -i ID",
        ["-o", "yaml", "pipelines", "view", "-i", "{pipeline_id}"],
        output_has(f"name: {PIPELINE}"),
    ),
    "pipelines-view-version": Case(
        "PipelinesCmdTest: pipelines view -n sleep_one_minute --version-name v1.0",
        ["pipelines", "view", "-n", PIPELINE, "--version-name", "v1.0"],
        output_has("v1.0", "Version Is Default", "no"),
        setup=named_version("v1.0", "timeout: 1\n"),
    ),
    "pipelines-update-description": Case(
        "PipelinesCmdTest: pipelines update -n sleep_one_minute -d 'Sleep one minute and exit'",
        ["pipelines", "update", "-n", PIPELINE, "-d", "Sleep one minute and exit"],
        lambda w, r: (
            ok(w, r) or None
            if w.pipelines()[PIPELINE].description == "Sleep one minute and exit"
            else pytest.fail(r.output)
        ),
    ),
    "pipelines-update-ce": Case(
        "PipelinesCmdTest: pipelines update -n sleep_one_minute -c demo",
        ["pipelines", "update", "-n", PIPELINE, "-c", "demo"],
        pipeline_is(PIPELINE, lambda x: x["computeEnvId"] is not None),
    ),
    "pipelines-update-new-name": Case(
        "PipelinesCmdTest: pipelines update -n sleep_one_minute --new-name sleepOneMinute",
        ["pipelines", "update", "-n", PIPELINE, "--new-name", "sleepOneMinute"],
        pipeline_is("sleepOneMinute", lambda x: x["pipeline"].endswith("nf-sleep")),
    ),
    "pipelines-update-commit": Case(
        "PipelinesCmdTest: pipelines update -n sleep_one_minute --commit-id a1b2…",
        ["pipelines", "update", "-n", PIPELINE, "--commit-id", "a1b2c3d4e5f6"],
        pipeline_is(PIPELINE, lambda x: x["commitId"] == "a1b2c3d4e5f6"),
    ),
    "pipelines-update-pre-run": Case(
        "PipelinesCmdTest: pipelines update --id ID --workspace WSP --pre-run FILE",
        [
            "pipelines",
            "update",
            "--id",
            "{pipeline_id}",
            "--workspace",
            "{workspace}",
            "--pre-run",
            "{file_pre}",
        ],
        pipeline_is(PIPELINE, lambda x: x["preRunScript"] == "echo pre_run_this\n"),
    ),
    "pipelines-update-params-usage": Case(
        "USAGE: tw pipelines update --name=my_rnaseq_nf_pipeline --params-file=…",
        ["pipelines", "update", f"--name={PIPELINE}", "--params-file={file_params2}"],
        pipeline_is(PIPELINE, lambda x: x["paramsText"] == "timeout: 120\n"),
    ),
    "pipelines-update-revision": Case(
        "PipelinesCmdTest: pipelines update -n sleep_one_minute --revision new-branch",
        ["pipelines", "update", "-n", PIPELINE, "--revision", "new-branch"],
        pipeline_is(PIPELINE, lambda x: x["revision"] == "new-branch"),
    ),
    "pipelines-delete": Case(
        "PipelinesCmdTest: pipelines delete -n sleep",
        ["pipelines", "delete", "-n", PIPELINE],
        lambda w, r: ok(w, r) or None if PIPELINE not in w.pipelines() else pytest.fail("kept"),
    ),
    "pipelines-delete-missing": Case(
        "PipelinesCmdTest: pipelines delete -n hello (not found: exit 1)",
        ["pipelines", "delete", "-n", "hello"],
        exits(1, "not found"),
    ),
    "pipelines-export-stdout": Case(
        "PipelinesCmdTest: pipelines export -n sleep",
        ["pipelines", "export", "-n", PIPELINE],
        lambda w, r: None if "nf-sleep" in w.json(r)["launch"]["pipeline"] else 1,
    ),
    "pipelines-export-file": Case(
        "USAGE: tw pipelines export --name=my_rnaseq_nf_pipeline my_rnaseq_nf_pipeline_v1.json",
        ["pipelines", "export", f"--name={PIPELINE}", "{file_export}"],
        lambda w, r: (
            ok(w, r) or None
            if json.loads(w.files["export"].read_text())["launch"]["pipeline"].endswith("nf-sleep")
            else pytest.fail("empty export")
        ),
    ),
    "pipelines-import": Case(
        "PipelinesCmdTest: pipelines import FILE -n pipelineNew",
        ["pipelines", "import", "{file_export}", "-n", "pipelineNew"],
        pipeline_is("pipelineNew", lambda x: x["pipeline"].endswith("nf-sleep")),
        setup=export_file,
    ),
    "pipelines-import-ce": Case(
        "PipelinesCmdTest: pipelines import FILE -n pipelineNew -c demo",
        ["pipelines", "import", "{file_export}", "-n", "pipelineNew", "-c", "demo"],
        pipeline_is("pipelineNew", lambda x: x["workDir"].endswith("/work")),
        setup=export_file,
    ),
    "pipelines-import-overwrite": Case(
        "PipelinesCmdTest: pipelines import --overwrite FILE -n sleep_one_minute",
        ["pipelines", "import", "--overwrite", "{file_export}", "-n", PIPELINE],
        pipeline_is(PIPELINE, lambda x: True),
        setup=export_file,
    ),
    "pipelines-import-usage": Case(
        "USAGE: tw pipelines import --name=my_rnaseq_nf_pipeline_v1 "
        "./my_rnaseq_nf_pipeline_v1.json",
        ["pipelines", "import", "--name=my_rnaseq_nf_pipeline_v1", "{file_export}"],
        pipeline_is("my_rnaseq_nf_pipeline_v1", lambda x: True),
        setup=export_file,
    ),
    "pipelines-labels": Case(
        "LabelsCmdTest: pipelines labels -w WSP -n cli_pipeline test_label0,test_label1,"
        "test_label2=value",
        [
            "pipelines",
            "labels",
            "-w",
            "{workspace}",
            "-n",
            PIPELINE,
            "test_label0,test_label1,test_label2=value",
        ],
        lambda w, r: (
            ok(w, r) or None
            if len(w.pipelines()[PIPELINE].labels or []) == 3
            else pytest.fail(str(w.pipelines()[PIPELINE].labels))
        ),
    ),
    "pipelines-versions-list": Case(
        "PipelineVersionsCmdTest: pipelines versions list -n NAME",
        ["pipelines", "versions", "list", "-n", PIPELINE],
        ok,
    ),
    "pipelines-versions-manage": Case(
        "PipelineVersionsCmdTest: pipelines versions manage -n NAME --version-name V "
        "--new-name N --set-default",
        [
            "pipelines",
            "versions",
            "manage",
            "-n",
            PIPELINE,
            "--version-name",
            "v1.0",
            "--new-name",
            "release-2",
            "--set-default",
        ],
        all_of(ok, version_listed(PIPELINE, "release-2"), output_has("updated")),
        setup=named_version("v1.0", "timeout: 2\n"),
    ),
    "launch-version-name-missing": Case(
        "LaunchCmdTest: launch sarek --version-name nonexistent (exit 1)",
        ["launch", PIPELINE, "--version-name", "nonexistent"],
        exits(1, "Pipeline version 'nonexistent' not found"),
    ),
    # --- runs ---------------------------------------------------------------------------------
    "runs-list": Case("RunsCmdTest: runs list", ["runs", "list"], output_has("{run}")),
    "runs-list-offset": Case(
        "RunsCmdTest: runs list --offset 1 --max 2",
        ["-o", "json", "runs", "list", "--offset", "1", "--max", "2"],
        json_field(["workflows"], []),
    ),
    "runs-list-page": Case(
        "RunsCmdTest: runs list --page 1 --max 2",
        ["-o", "json", "runs", "list", "--page", "1", "--max", "2"],
        lambda w, r: None if w.json(r)["workflows"][0]["workflow"]["id"] == w.run_id else 1,
    ),
    "runs-list-filter": Case(
        "USAGE: tw runs list --filter hello_slurm_20240530",
        ["runs", "list", "--filter", "nf-sleep"],
        output_has("{run}"),
    ),
    "runs-view": Case(
        "RunsCmdTest: runs view -i ID", ["runs", "view", "-i", "{run}"], output_has("{run}")
    ),
    "runs-view-workspace": Case(
        "USAGE: tw runs view -i 2vFUbBx63cfsBY -w seqeralabs/showcase",
        ["runs", "view", "-i", "{run}", "-w", "{workspace}"],
        output_has("{run}"),
    ),
    "runs-view-sections": Case(
        "RunViewOptions: runs view -i ID --params --command --config --status",
        ["-o", "json", "runs", "view", "-i", "{run}", "--params", "--command", "--status"],
        lambda w, r: None if {"params", "command", "status"} <= set(w.json(r)) else 1,
    ),
    "runs-view-tasks": Case(
        "TasksCmdTest: runs view -i ID tasks",
        ["runs", "view", "-i", "{run}", "tasks"],
        output_has("Tasks of run {run}"),
    ),
    "runs-view-metrics": Case(
        "MetricsCmdTest: runs view -i ID metrics -v condensed",
        ["runs", "view", "-i", "{run}", "metrics", "-v", "condensed"],
        output_has("No metrics"),
    ),
    "runs-view-download": Case(
        "RunsCmdTest: runs view -i ID download (the head job's output)",
        ["runs", "view", "-i", "{run}", "download"],
        ok,
    ),
    "runs-cancel": Case(
        "RunsCmdTest: runs cancel -i ID",
        ["runs", "cancel", "-i", "{run}"],
        run_status_in("CANCELLED"),
    ),
    "runs-relaunch": Case(
        "USAGE: tw runs relaunch -i 3S3KzAasBa4Bt3 -w my-workspace",
        ["runs", "relaunch", "-i", "{run}", "-w", "{workspace}"],
        relaunched,
    ),
    "runs-relaunch-plain": Case(
        "RunsCmdTest: runs relaunch -i ID", ["runs", "relaunch", "-i", "{run}"], relaunched
    ),
    "runs-delete": Case(
        "RunsCmdTest: runs delete -i ID", ["runs", "delete", "-i", "{run}", "--force"], run_deleted
    ),
    "runs-dump": Case(
        "USAGE: tw runs dump -i 5z4AMshti4g0GK -o file.tar.gz",
        ["runs", "dump", "-i", "{run}", "-o", "{tmp}/file.tar.gz", "--silent"],
        dumped,
    ),
    "runs-labels": Case(
        "USAGE: tw runs labels -i 5z4AMshti4g0GK test,rnaseq-demo",
        ["runs", "labels", "-i", "{run}", "test,rnaseq-demo"],
        ok,
    ),
    # --- secrets ------------------------------------------------------------------------------
    "secrets-add": Case(
        "SecretsCmdTest: secrets add -n name03 -v value03 (warned: shell history)",
        ["secrets", "add", "-n", "name03", "-v", "value03"],
        all_of(secret_value_warned, secrets_named("name03")),
    ),
    "secrets-add-overwrite": Case(
        "SecretsCmdTest: secrets add --overwrite -n name03 -v value03",
        ["secrets", "add", "--overwrite", "-n", "name02", "-v", "value03"],
        all_of(secret_value_warned, secrets_named("name02")),
    ),
    "secrets-add-stdin": Case(
        "batchforge's preferred form: secrets add -n NAME -v - (value on stdin)",
        ["secrets", "add", "-n", "name04", "-v", "-"],
        lambda w, r: secrets_named("name04")(w, r) or None if "history" not in r.output else 1,
        stdin="from-stdin\n",
    ),
    "secrets-list": Case("SecretsCmdTest: secrets list", ["secrets", "list"], output_has("name02")),
    "secrets-view": Case(
        "SecretsCmdTest: secrets view -n name02",
        ["secrets", "view", "-n", "name02"],
        output_has("name02"),
    ),
    "secrets-update": Case(
        "SecretsCmdTest: secrets update -n name02 -v updateValue",
        ["secrets", "update", "-n", "name02", "-v", "updateValue"],
        all_of(secret_value_warned, secrets_named("name02")),
    ),
    "secrets-delete": Case(
        "SecretsCmdTest: secrets delete -n name03",
        ["secrets", "delete", "-n", "name02"],
        secrets_named(absent=("name02",)),
    ),
    # --- labels -------------------------------------------------------------------------------
    "labels-add": Case(
        "LabelsCmdTest: labels add -n some-label -w 123",
        ["labels", "add", "-n", "other-label", "-w", "{workspace}"],
        labels_named("other-label"),
    ),
    "labels-add-resource": Case(
        "LabelsCmdTest: labels add -n res -v val -w 4343",
        ["labels", "add", "-n", "res", "-v", "val", "-w", "{workspace}"],
        labels_named("res"),
    ),
    "labels-list": Case(
        "LabelsCmdTest: labels list -w WSP",
        ["labels", "list", "-w", "{workspace}"],
        output_has("some-label"),
    ),
    "labels-list-filter": Case(
        "LabelsCmdTest: labels list -w WSP -f find",
        ["-o", "json", "labels", "list", "-w", "{workspace}", "-f", "some"],
        json_field(["labels", 0, "name"], "some-label"),
    ),
    "labels-list-resource": Case(
        "LabelsCmdTest: labels list -w WSP -t resource",
        ["-o", "json", "labels", "list", "-w", "{workspace}", "-t", "resource"],
        json_field(["labels"], []),
    ),
    "labels-list-simple": Case(
        "LabelsCmdTest: labels list -w WSP -t simple",
        ["-o", "json", "labels", "list", "-w", "{workspace}", "-t", "simple"],
        json_field(["labels", 0, "name"], "some-label"),
    ),
    "labels-delete": Case(
        "LabelsCmdTest: labels delete -i 1234 -w 5662",
        ["labels", "delete", "-i", "{label_id}", "-w", "{workspace}"],
        labels_named(absent=("some-label",)),
    ),
    "labels-update": Case(
        "UpdateLabelsCmd: labels update -i ID -n NAME",
        ["labels", "update", "-i", "{label_id}", "-n", "renamed", "-w", "{workspace}"],
        labels_named("renamed"),
    ),
    # --- data-links ---------------------------------------------------------------------------
    "data-links-list": Case(
        "DataLinksCmdTest / USAGE: data-links list -w WSP",
        ["data-links", "list", "-w", "{workspace}"],
        output_has("aws-storage"),
    ),
    "data-links-list-search": Case(
        "DataLinksCmdTest: data-links list -w WSP -n adrian -p aws -r us-east-1",
        ["-o", "json", "data-links", "list", "-w", "{workspace}", "-n", "aws", "-p", "aws"],
        json_field(["dataLinks", 0, "name"], "aws-storage"),
    ),
    "data-links-add": Case(
        "DataLinksCmdTest: data-links add -w WSP -n name -d somedesc -p aws -u URI -c CREDS",
        [
            "data-links",
            "add",
            "-w",
            "{workspace}",
            "-n",
            "name",
            "-d",
            "somedesc",
            "-p",
            "aws",
            "-u",
            "s3://{bucket}/path",
            "-c",
            "aws-creds",
        ],
        link_named("name"),
    ),
    "data-links-update": Case(
        "DataLinksCmdTest: data-links update -w WSP -i ID -n name -d somedesc -c CREDS",
        [
            "data-links",
            "update",
            "-w",
            "{workspace}",
            "-i",
            "{link_id}",
            "-n",
            "name",
            "-d",
            "somedesc",
            "-c",
            "aws-creds",
        ],
        link_named("name"),
    ),
    "data-links-delete": Case(
        "DataLinksCmdTest: data-links delete -w WSP -i ID",
        ["data-links", "delete", "-w", "{workspace}", "-i", "{link_id}"],
        link_named("aws-storage", present=False),
    ),
    "data-links-browse": Case(
        "DataLinksCmdTest: data-links browse -w WSP -i ID -f name -p path",
        [
            "data-links",
            "browse",
            "-w",
            "{workspace}",
            "-i",
            "{link_id}",
            "-f",
            "name",
            "-p",
            "path",
        ],
        output_has("name.txt"),
    ),
    "data-links-download": Case(
        "DataLinksCmdTest: data-links download -w WSP -n NAME -c CREDS PATH",
        [
            "data-links",
            "download",
            "-w",
            "{workspace}",
            "-n",
            "aws-storage",
            "-c",
            "aws-creds",
            "-o",
            "{tmp}",
            "path/name.txt",
        ],
        lambda w, r: (
            ok(w, r) or None
            if (w.tmp / "name.txt").read_text() == "hi"
            else pytest.fail("not downloaded")
        ),
    ),
    "data-links-upload": Case(
        "DataLinksCmdTest: data-links upload -w WSP -n NAME -c CREDS FILE",
        [
            "data-links",
            "upload",
            "-w",
            "{workspace}",
            "-n",
            "aws-storage",
            "-c",
            "aws-creds",
            "{file_upload}",
        ],
        output_has("Uploaded 1 file"),
    ),
}


def _pipeline_with_schema(w: World, name: str) -> None:
    """A pipeline ``name`` saved with a schema declaring ``timeout`` an integer, and
    ``{file_params_bad}``: params giving it as text."""
    saved_schema(w)
    launch = {
        "pipeline": "https://github.com/pditommaso/nf-sleep",
        "computeEnvId": w.ce_id,
        "workDir": f"s3://{WORK_BUCKET}/work",
        "pipelineSchemaId": w.extra["schema_id"],
    }
    w.api.request("POST", "/pipelines", json={"name": name, "launch": launch})
    path = w.tmp / "params_bad.yaml"
    path.write_text("timeout: soon\n")
    w.files["params_bad"] = path


def _params() -> list[Any]:
    found = []
    for name, case in CASES.items():
        marks = [pytest.mark.tw_cli]
        if case.xfail:
            marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
        found.append(pytest.param(case, id=name, marks=marks))
    return found


@pytest.mark.parametrize("case", _params())
def test_tw_command_line(world: World, case: Case) -> None:  # noqa: F811
    """The command line runs as batchforge with the effect tw's would have."""
    if case.setup is not None:
        case.setup(world)
    args = [arg.replace("{repo}", "https://github.com/pditommaso/nf-sleep") for arg in case.args]
    result = world.run(args, case.stdin)
    assert "Traceback" not in result.output
    outcome = case.check(world, result)
    assert outcome is None, result.output
