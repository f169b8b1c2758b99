"""``nextflow run`` of the stand-in: Nextflow 24.10.5's checks, then its awsbatch AWS calls.

Sources of the rules (nextflow-io/nextflow at v24.10.5):
- ``cli/CmdRun.groovy`` ``checkRunName``: pattern ``^[a-z](?:[a-z\\d]|[-_](?=[a-z\\d])){0,79}$``
  (case-insensitive), not ``last``; "Missing workflow run name" when history is disabled;
- ``cli/Launcher.groovy``: ``-resume`` takes the next argument only if it is ``last`` or a UUID;
- ``config/ConfigBuilder.groovy``: missing ``-c`` file, unknown profile, ``-resume last`` with
  ``NXF_IGNORE_RESUME_HISTORY=true``, ``NXF_CLOUDCACHE_PATH`` enabling the cloud cache;
- ``script/ScriptRunner.groovy`` ``verifyAndTrackHistory``: "Can't find a run with the
  specified id" when resuming an id not in ``.nextflow/history`` (history enabled);
- ``Session.groovy``: session id = the resume id, else ``NXF_UUID``, else random; the cloud
  cache must be on object storage;
- nf-cloudcache ``CloudCacheStore``: entries at ``<path>/<session id>/<task hash>``, index at
  ``<path>/<session id>/index.<run name>``;
- nf-amazon ``AwsBatchExecutor.validateWorkDir`` (S3 work dir) and ``AwsBatchTaskHandler``
  (definition ``nf-<image>`` with an ``nf-token`` parameter, ``jobRoleArn``,
  ``executionRoleArn``, awslogs ``logConfiguration``, volumes; task job name
  ``tw-<TOWER_WORKFLOW_ID>-<task name>`` normalised to ``[a-zA-Z0-9_-]``).
Cache entries are JSON here (Nextflow writes Kryo): only the stand-in reads them back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchforge.emulator import nfconfig
from batchforge.emulator.standin import LABEL, VERSION, Abort, aws_error_text, fail, say

RUN_NAME = re.compile(r"^[a-z](?:[a-z\d]|[-_](?=[a-z\d])){0,79}$", re.I)
UUID_LIKE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{8}")
RUN_NAME_TEXT = r"^[a-z](?:[a-z\d]|[-_](?=[a-z\d])){0,79}$"
FLAGS = {"-latest", "-stub-run", "-stub", "-offline", "-quiet", "-q", "-bg"}
VALUED = {
    "-name": "name",
    "-c": "config",
    "-config": "config",
    "-params-file": "params_file",
    "-profile": "profile",
    "-r": "revision",
    "-revision": "revision",
    "-main-script": "main_script",
    "-entry": "entry",
    "-w": "work_dir",
    "-work-dir": "work_dir",
    "-bucket-dir": "bucket_dir",
    "-ansi-log": "ansi_log",
    "-with-tower": "tower",
}
PROCESS = "STANDIN"
DEFAULT_IMAGE = "quay.io/nextflow/bash"
FINAL = ("SUCCEEDED", "FAILED")
WORK_DIR_RULE = (
    "When using `awsbatch` executor an S3 bucket must be provided as working directory "
    "using either the `-bucket-dir` or `-work-dir` command line option"
)


@dataclass
class Options:
    pipeline: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    configs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    resume: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def parse_args(args: list[str]) -> Options:
    opts, i = Options(), 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq:
                has_value = i < len(args) and not args[i].startswith("-")
                value = args[i] if has_value else "true"
                i += int(has_value)
            opts.params[name] = value
        elif arg == "-resume":
            nxt = args[i] if i < len(args) else ""
            if nxt and not nxt.startswith("-") and (nxt == "last" or UUID_LIKE.search(nxt)):
                opts.resume, i = nxt, i + 1
            else:
                opts.resume = "last"
        elif arg in FLAGS:
            opts.flags.add(arg)
        elif arg in VALUED:
            if i >= len(args):
                fail(f"Expected a value after parameter {arg}")
            if VALUED[arg] == "config":
                opts.configs.append(args[i])
            else:
                opts.values[VALUED[arg]] = args[i]
            i += 1
        elif arg.startswith("-"):
            fail(
                f"Unknown option: {arg} -- Check the available commands and options and syntax with 'help'"  # noqa: E501
            )
        elif opts.pipeline is None:
            opts.pipeline = arg
    return opts


class Log:
    """``.nextflow.log`` in the working directory, its first line the stand-in label."""

    def __init__(self) -> None:
        self.path = Path(".nextflow.log")
        self.path.write_text(LABEL + "\n")

    def debug(self, text: str) -> None:
        stamp = time.strftime("%b-%d %H:%M:%S")
        with self.path.open("a") as out:
            out.write(f"{stamp} [main] DEBUG nextflow.standin - {text}\n")

    def info(self, text: str) -> None:
        say(text)
        self.debug(text)


class History:
    """``.nextflow/history``: one line per run (tab-separated, session id and name)."""

    def __init__(self) -> None:
        self.disabled = os.environ.get("NXF_IGNORE_RESUME_HISTORY") == "true"
        self.path = Path(".nextflow") / "history"

    def rows(self) -> list[list[str]]:
        if self.disabled or not self.path.exists():
            return []
        return [line.split("\t") for line in self.path.read_text().splitlines() if line]

    def write(self, name: str, session: str, cli: str) -> None:
        if self.disabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}\t-\t{name}\tOK\t-\t{session}\t{cli}\n")


def check_run_name(name: str | None, history: History) -> str:
    if name == "last":
        fail("Not a valid run name: `last`")
    if name and not RUN_NAME.match(name):
        fail(f"Not a valid run name: `{name}` -- It must match the pattern {RUN_NAME_TEXT}")
    if not name:
        if history.disabled:
            fail("Missing workflow run name")
        return f"standin_{uuid.uuid4().hex[:8]}"
    if any(len(row) > 2 and row[2] == name for row in history.rows()):
        fail(f"Run name `{name}` has been already used -- Specify a different one")
    return name


def load_config(opts: Options) -> dict[str, Any]:
    paths = []
    for name in opts.configs:
        path = Path(name)
        if not path.exists():
            fail(
                f"The specified configuration file does not exist: {path} -- check the name or choose another file"  # noqa: E501
            )
        paths.append(path)
    try:
        values = nfconfig.load(paths)
    except nfconfig.ConfigError as error:
        fail(f"ERROR ~ Unable to parse config file: {error}")
    profiles = [p for p in (opts.values.get("profile") or "").split(",") if p]
    valid = nfconfig.profile_names(values)
    for name in profiles:
        if name != "standard" and name not in valid:
            fail(f"Unknown configuration profile: '{name}'")
    return nfconfig.with_profiles(values, profiles)


def load_params(opts: Options, config: dict[str, Any]) -> dict[str, Any]:
    params = {k[len("params.") :]: v for k, v in config.items() if k.startswith("params.")}
    file = opts.values.get("params_file")
    if file:
        ext = file.rsplit(".", 1)[-1]
        if ext not in ("json", "yml", "yaml"):
            fail(
                f"Not a valid params file extension: {file} -- It must be one of the following: json,yml,yaml"  # noqa: E501
            )
        path = Path(file)
        if not path.exists():
            fail(f"Specified params file does not exist: {path.resolve()}")
        try:
            import yaml

            text = path.read_text()
            params.update(json.loads(text) if ext == "json" else yaml.safe_load(text) or {})
        except Exception as error:
            fail(f"Cannot parse params file: {path.resolve()} - Cause: {error}")
    params.update(opts.params)
    return params


def session_id(opts: Options, history: History) -> tuple[str, bool]:
    """The session id and whether the run resumes (ConfigBuilder + Session + ScriptRunner)."""
    resume = opts.resume
    if resume in ("last", "true"):
        if history.disabled:
            fail(
                "The resume session id should be specified via `-resume` option when history file tracking is disabled"  # noqa: E501
            )
        rows = history.rows()
        resume = rows[-1][5] if rows and len(rows) > 5 else None
        if not resume:
            say(
                "WARN: It appears you have never run this project before -- Option `-resume` is ignored"  # noqa: E501
            )
    value = resume or os.environ.get("NXF_UUID") or str(uuid.uuid4())
    try:
        value = str(uuid.UUID(value))
    except ValueError:
        fail(f"ERROR ~ Invalid UUID string: {value}")
    if (
        resume
        and not history.disabled
        and not any(len(row) > 5 and row[5] == value for row in history.rows())
    ):
        fail(f"Can't find a run with the specified id: {value} -- Execution can't be resumed")
    return value, bool(resume)


def text_of(config: dict[str, Any], key: str, default: str | None = None) -> str | None:
    value = config.get(key, default)
    if isinstance(value, nfconfig.Expression):
        fail(
            f"ERROR ~ the batchforge Nextflow stand-in cannot evaluate `{key} = {value.text}` (it reads literal values only)"  # noqa: E501
        )
    return None if value is None else str(value)


def knob(params: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    try:
        return kind(params.get(name, default))
    except (TypeError, ValueError):
        fail(f"ERROR ~ stand-in knob `{name}` must be a {kind.__name__}: {params.get(name)!r}")


def run(args: list[str]) -> int:
    """``nextflow run``; returns the exit status.  With nf-tower on (24.10.5's rules, see
    :mod:`batchforge.emulator.standin_trace`), the run reports itself: ``create`` once the
    session exists, ``begin`` before the first task, task events while they run, ``complete``
    at the end."""
    from batchforge.emulator.standin_tasks import Settings, run_tasks
    from batchforge.emulator.standin_trace import TraceClient
    from batchforge.emulator.standin_trace_data import Reporter, RunTrace, Workflow

    opts = parse_args(args)
    if not opts.pipeline:
        fail("No project name was specified")
    if "-latest" in opts.flags and "-offline" in opts.flags:
        fail("Command line options `-latest` and `-offline` cannot be specified at the same time")
    history = History()
    name = check_run_name(opts.values.get("name"), history)
    config = load_config(opts)
    params = load_params(opts, config)
    session, resumed = session_id(opts, history)
    log = Log()
    log.debug(f"stand-in for Nextflow {VERSION}; cli: nextflow run {' '.join(args)}")
    log.debug(f"Session UUID: {session}; run name: {name}; resume: {resumed}")
    history.write(name, session, "nextflow run " + " ".join(args))
    tower = TraceClient.from_environment(config, dict(os.environ), log)
    trace = RunTrace(PROCESS)
    if tower is not None:
        from batchforge.emulator.standin_trace_data import project

        tower.progress = trace.progress
        project_name, repository = project(opts.pipeline)
        tower.create(
            {
                "sessionId": session,
                "runName": name,
                "projectName": project_name,
                "repository": repository,
            }
        )
    revision = opts.values.get("revision") or "-"
    log.info(f"Launching `{opts.pipeline}` [{name}] DSL2 - revision: {revision}")
    log.info("(stand-in: the pipeline is neither fetched nor run; tasks are placeholders)")
    executor = text_of(config, "process.executor", "local")
    if executor != "awsbatch":
        fail(
            f"ERROR ~ the batchforge Nextflow stand-in emulates the `awsbatch` executor only, not `{executor}`"  # noqa: E501
        )
    work_dir = (
        opts.values.get("work_dir")
        or text_of(config, "workDir")
        or os.environ.get("NXF_WORK")
        or "work"
    )
    bucket_dir = opts.values.get("bucket_dir") or text_of(config, "bucketDir")
    if not (bucket_dir or work_dir).startswith("s3://"):
        fail(WORK_DIR_RULE)
    cache = text_of(config, "cloudcache.path") or os.environ.get("NXF_CLOUDCACHE_PATH")
    if cache is None and config.get("cloudcache.enabled") is True:
        cache = work_dir
    if cache and not cache.startswith(("s3://", "az://", "gs://")):
        fail(f"ERROR ~ Storage path not supported by Cloud-cache - offending value: '{cache}'")
    settings = Settings(
        run_name=name,
        session=session,
        resumed=resumed,
        work_dir=(bucket_dir or work_dir).rstrip("/"),
        cache=cache.rstrip("/") if cache else None,
        region=text_of(config, "aws.region") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        queue=text_of(config, "process.queue"),
        image=text_of(config, "process.container") or DEFAULT_IMAGE,
        job_role=text_of(config, "aws.batch.jobRole"),
        execution_role=text_of(config, "aws.batch.executionRole"),
        logs_group=text_of(config, "aws.batch.logsGroup"),
        cli_path=text_of(config, "aws.batch.cliPath"),
        volumes=_volumes(config.get("aws.batch.volumes")),
        tasks=knob(params, "standin_tasks", int, 1),
        task_seconds=knob(params, "standin_task_seconds", float, 0.0),
        workflow_id=os.environ.get("TOWER_WORKFLOW_ID"),
    )
    if not settings.queue:
        fail(
            "ERROR ~ Missing AWS Batch job queue -- provide it by using the process `queue` directive"  # noqa: E501
        )
    status = knob(params, "standin_exit_status", int, 0)
    workflow = Workflow(
        run_name=name,
        session=session,
        resumed=resumed,
        pipeline=opts.pipeline,
        revision=opts.values.get("revision"),
        work_dir=settings.work_dir,
        command_line="nextflow run " + " ".join(args),
        params=params,
        config_text="\n".join(Path(c).read_text() for c in opts.configs),
        profile=opts.values.get("profile") or "standard",
        container=settings.image,
        stub_run="-stub-run" in opts.flags or "-stub" in opts.flags,
    )
    report = None
    if tower is not None:
        tower.begin(workflow.metadata(), [PROCESS])
        report = Reporter(
            tower, trace, settings.work_dir, settings.queue, settings.image, settings.region
        )
    try:
        failed = run_tasks(settings, log, report) if report else run_tasks(settings, log)
    except Abort as error:
        _complete(tower, workflow, trace, 1, str(error))
        raise
    except Exception as error:
        _complete(tower, workflow, trace, 1, aws_error_text(error))
        fail(f"ERROR ~ {aws_error_text(error)}")
    if failed:
        _complete(tower, workflow, trace, 1, f"Error executing process > '{PROCESS}'")
        return 1
    _complete(
        tower,
        workflow,
        trace,
        status,
        f"stand-in asked to exit with status {status}" if status else None,
    )
    log.info(f"Completed: {settings.tasks} task(s); stand-in exit status {status}")
    if status:
        print(
            f"ERROR ~ stand-in asked to exit with status {status} (standin_exit_status)", flush=True
        )
    return status


def _complete(tower: Any, workflow: Any, trace: Any, status: int, error: str | None) -> None:
    """``onFlowComplete``: the last task events, then ``complete`` (a failure only warns)."""
    if tower is not None:
        tower.complete(workflow.final(trace, status, error), trace.metrics())


def _volumes(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    fail(f"ERROR ~ aws.batch.volumes must be a string or a list of strings: {value}")


def task_hash(session: str, process: str, index: int) -> str:
    return hashlib.md5(f"{session}/{process}/{index}".encode()).hexdigest()
