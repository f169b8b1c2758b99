"""The Nextflow head job: its ``nextflow.config``, its bootstrap script and its SubmitJob request.

Everything here is pure (no AWS, no database): given a :class:`HeadJob` it returns the text and
the request parameters, so the same run always produces the same job.

Shape of the job (robust to the launcher image's ENTRYPOINT and to ECS's overrides limit):

- ``command`` is always :data:`BOOT_COMMAND`, which has no quote at all.  The
  ``nextflow/nextflow`` image's ENTRYPOINT (``docker/entry.sh``) wraps every argument in single
  quotes without escaping and runs the result with ``bash -c``; Batch cannot override the
  entrypoint, so a quote in the command would end the script.
- The bootstrap script rides base64 in the variable ``BATCHFORGE_BOOT``; it fetches the
  launch files (config, params, pre/post-run scripts) from
  ``<workDir>/batchforge/<runId>/launch/`` (uploaded by the launch service before SubmitJob)
  with ``nextflow fs cp``, so their size does not count against ECS's 8,192 characters of
  container overrides (:data:`OVERRIDES_LIMIT`).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

LAUNCH_DIR = "/tmp/batchforge-launch"  # inside the head job container
CONFIG_FILE = "batchforge.config"
PARAMS_FILE = "params.json"
PRE_RUN_FILE = "pre-run.sh"
POST_RUN_FILE = "post-run.sh"
LAUNCH_FOLDER = "launch"  # <workDir>/batchforge/<runId>/launch/<file>
CACHE_FOLDER = "batchforge/cache"  # <workDir>/batchforge/cache: Nextflow's cloud cache
BOOT_ENV = "BATCHFORGE_BOOT"
BOOT_FILE = "/tmp/batchforge-boot.sh"
# No quote of either kind: entry.sh wraps it in single quotes, and with NXF_USRMAP set it
# passes it through an unquoted here-document inside double quotes.  The value is one line of
# base64 (no blanks, no glob characters), so it needs no quoting.
BOOT_COMMAND = f"printf %s ${BOOT_ENV} | base64 -d > {BOOT_FILE} && exec bash {BOOT_FILE}"
# ECS refuses container overrides over 8,192 characters ("Container Overrides length must be
# at most 8192"); SubmitJob accepts more, so the job would fail after submission.  Batch adds
# its own variables (AWS_BATCH_JOB_ID, AWS_BATCH_JQ_NAME, ...) to what reaches ECS: keep a
# reserve for them.
OVERRIDES_LIMIT = 8192
OVERRIDES_RESERVE = 512
SECRETS_NOTE = (
    "batchforge: this run has pipeline secrets: the Nextflow config reads them as secrets.NAME "
    "in this head job, but open-source Nextflow on AWS Batch passes no secrets to task jobs "
    "(a process secret directive gets no value)."
)
# Nextflow's run name rule (CmdRun.RUN_NAME_PATTERN, CASE_INSENSITIVE; 'last' is refused).
RUN_NAME_PATTERN = re.compile(r"^[a-z](?:[a-z\d]|[-_](?=[a-z\d])){0,79}$", re.IGNORECASE)
SECRET_ENV_PREFIX = "BATCHFORGE_SECRET_"
# The per-run trace token: nf-tower is loaded when it is set (PluginsFacade, Nextflow 24.10.5)
# and, with TOWER_WORKFLOW_ID set, reads it from this variable only (TowerClient.getAccessToken).
TOKEN_ENV = "TOWER_ACCESS_TOKEN"
SPOT_RECLAIM_ATTEMPTS = 5
MIN_HEAD_MEMORY_MB = 1024
DEFAULT_HEAD_CPUS = 2
DEFAULT_HEAD_MEMORY_MB = 4096


@dataclass(frozen=True)
class HeadJob:
    """What a run's head job needs; built by the launch service from the run and its env."""

    run_id: str
    run_name: str
    workspace_id: int
    pipeline: str
    revision: str | None
    work_dir: str
    region: str
    head_queue: str
    compute_queue: str
    cli_path: str | None
    session_id: str
    resume: bool = False
    execution_role: str | None = None
    compute_job_role: str | None = None
    env_config: str | None = None
    launch_config: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()
    pre_run: str | None = None
    post_run: str | None = None
    pull_latest: bool = False
    stub_run: bool = False
    main_script: str | None = None
    entry_name: str | None = None
    cpus: int = DEFAULT_HEAD_CPUS
    memory_mb: int = DEFAULT_HEAD_MEMORY_MB
    environment: tuple[tuple[str, str], ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    spot_retry: bool = False
    nextflow_version: str | None = None
    api_endpoint: str = ""
    # Pipeline secrets handed over by the job definition as SECRET_ENV_PREFIX + name.
    secret_names: tuple[str, ...] = ()
    commit_id: str | None = None
    output_dir: str | None = None
    log_group: str | None = None
    # Host paths of the environment's file systems (EFS, FSx), mounted into the jobs.
    volumes: tuple[str, ...] = ()
    # (name, value) of the environment's compute-target variables: the tasks' ``env`` scope.
    task_environment: tuple[tuple[str, str], ...] = ()
    # The run's trace token as a plain variable (TOKEN_ENV): only when the admin allows it
    # (BATCHFORGE_TRACE_TOKEN_DELIVERY=environment) and no secret could carry it.  Never in
    # repr, so a HeadJob can be logged.
    trace_token: str | None = field(default=None, repr=False)
    # One line the bootstrap prints first (e.g. why this run reports no trace).
    notice: str | None = None


def valid_run_name(name: str) -> bool:
    """Whether Nextflow accepts ``name`` as ``-name`` (CmdRun.checkRunName)."""
    return name != "last" and RUN_NAME_PATTERN.match(name) is not None


def groovy(value: str) -> str:
    """A single-quoted Groovy string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def job_name(run_name: str, run_id: str) -> str:
    """The head job's name: deterministic from the run (AWS: 128 letters, digits, - or _)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", run_name)[:100] or "run"
    return f"nf-{safe}-{run_id}"


def nextflow_config(job: HeadJob) -> str:
    """The environment's generated config, then the environment's and the launch's text."""
    lines = [
        "// generated by batchforge",
        "process.executor = 'awsbatch'",
        f"process.queue = {groovy(job.compute_queue)}",
        f"workDir = {groovy(job.work_dir)}",
        f"aws.region = {groovy(job.region)}",
    ]
    if job.cli_path:
        lines.append(f"aws.batch.cliPath = {groovy(job.cli_path)}")
    if job.execution_role:
        lines.append(f"aws.batch.executionRole = {groovy(job.execution_role)}")
    if job.compute_job_role:
        lines.append(f"aws.batch.jobRole = {groovy(job.compute_job_role)}")
    if job.log_group:
        lines.append(f"aws.batch.logsGroup = {groovy(job.log_group)}")
    if job.volumes:
        listed = ", ".join(groovy(path) for path in job.volumes)
        lines.append(f"aws.batch.volumes = [{listed}]")
    for name, value in job.task_environment:
        key = name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else groovy(name)
        lines.append(f"env.{key} = {groovy(value)}")
    for title, text in (("environment", job.env_config), ("launch", job.launch_config)):
        if text and text.strip():
            lines += ["", f"// from the {title}", text.rstrip()]
    return "\n".join(lines) + "\n"


def command_line(job: HeadJob) -> str:
    """The ``nextflow run`` command the head job executes."""
    args = ["nextflow", "run", job.pipeline]
    revision = job.commit_id or job.revision
    if revision:
        args += ["-r", revision]
    args += ["-name", job.run_name, "-c", CONFIG_FILE]
    if job.params:
        args += ["-params-file", PARAMS_FILE]
    if job.profiles:
        args += ["-profile", ",".join(job.profiles)]
    if job.resume:
        args += ["-resume", job.session_id]
    if job.pull_latest:
        args.append("-latest")
    if job.stub_run:
        args.append("-stub-run")
    if job.main_script:
        args += ["-main-script", job.main_script]
    if job.entry_name:
        args += ["-entry", job.entry_name]
    if job.output_dir:
        args += ["-output-dir", job.output_dir]
    return shlex.join(args)


def run_dir(job: HeadJob) -> str:
    """The run's folder in the work directory: ``<workDir>/batchforge/<runId>``."""
    return f"{job.work_dir.rstrip('/')}/batchforge/{job.run_id}"


def log_uri(job: HeadJob) -> str:
    return f"{run_dir(job)}/nextflow.log"


def launch_uri(job: HeadJob, name: str) -> str:
    """Where launch file ``name`` is uploaded before SubmitJob (and fetched by the job)."""
    return f"{run_dir(job)}/{LAUNCH_FOLDER}/{name}"


def cache_path(job: HeadJob) -> str | None:
    """Nextflow's cloud cache (``NXF_CLOUDCACHE_PATH``) under the work directory, where
    ``-resume`` finds the task cache of the session; only object storage is supported by
    Nextflow's cloud cache (Session.cloudCachePath), so None for any other work dir."""
    if not job.work_dir.startswith("s3://"):
        return None
    return f"{job.work_dir.rstrip('/')}/{CACHE_FOLDER}"


def launch_files(job: HeadJob) -> dict[str, str]:
    """The files the head job fetches from the work dir: name -> text (upload order)."""
    files = {CONFIG_FILE: nextflow_config(job)}
    if job.params:
        files[PARAMS_FILE] = json.dumps(job.params, indent=2, sort_keys=True) + "\n"
    if job.pre_run and job.pre_run.strip():
        files[PRE_RUN_FILE] = job.pre_run
    if job.post_run and job.post_run.strip():
        files[POST_RUN_FILE] = job.post_run
    return files


def secret_env(name: str) -> str:
    """The head container's variable carrying pipeline secret ``name`` (from Secrets Manager)."""
    return SECRET_ENV_PREFIX + name


def _secret_lines(job: HeadJob) -> list[str]:
    """Move each secret from its variable into Nextflow's secret store, so the pipeline reads
    it as ``secrets.NAME``; the variable is unset at once.  Names are validated identifiers."""
    if not job.secret_names:
        return []
    lines = [f"echo {shlex.quote(SECRETS_NOTE)}"]
    for name in job.secret_names:
        var = secret_env(name)
        lines.append(
            f'nextflow secrets set {name} "${{{var}}}" >/dev/null && unset {var} '
            f"|| {{ echo 'batchforge: could not store pipeline secret {name}' >&2; exit 1; }}"
        )
    return lines


def script(job: HeadJob) -> str:
    """The bootstrap script (rides base64 in ``BATCHFORGE_BOOT``, so any quoting is safe).

    It fetches the launch files from the run's folder with ``nextflow fs cp``, stores the
    pipeline secrets, runs the pre-run script, Nextflow and the post-run script, then copies
    ``.nextflow.log`` back to the run's folder and exits with Nextflow's status.
    """
    lines = [
        "set -uo pipefail",
        f"mkdir -p {LAUNCH_DIR} && cd {LAUNCH_DIR} || exit 1",
        "fetch() {",
        '  nextflow fs cp "$1" "$2" >/dev/null || {',
        '    echo "batchforge: could not copy the launch file $1 (nextflow fs cp failed): '
        'the head job role needs s3:GetObject on the work directory" >&2; exit 1; }',
        "}",
    ]
    for name in launch_files(job):
        lines.append(f"fetch {shlex.quote(launch_uri(job, name))} {name}")
    if job.notice:
        lines.append(f"echo {shlex.quote('batchforge: ' + job.notice)}")
    lines += _secret_lines(job)
    if PRE_RUN_FILE in launch_files(job):
        lines.append(
            f"bash {PRE_RUN_FILE} || {{ echo 'batchforge: pre-run script failed' >&2; exit 1; }}"
        )
    lines += [command_line(job), "status=$?"]
    if POST_RUN_FILE in launch_files(job):
        lines.append(f"bash {POST_RUN_FILE} || true")
    lines += [
        f"nextflow fs cp .nextflow.log {shlex.quote(log_uri(job))} || true",
        "exit $status",
    ]
    return "\n".join(lines) + "\n"


def boot_value(job: HeadJob) -> str:
    """The value of ``BATCHFORGE_BOOT``: the bootstrap script, base64 (one line)."""
    return base64.b64encode(script(job).encode()).decode()


def environment(job: HeadJob) -> list[dict[str, str]]:
    """NXF_* and TOWER_* variables.  The trace token (``TOWER_ACCESS_TOKEN``) is normally not
    here but in the job definition's ``secrets`` (read by ECS from Secrets Manager, so
    ``batch:DescribeJobs`` does not show it); it is here only as :attr:`HeadJob.trace_token`.

    ``NXF_UUID`` makes Nextflow's session id the run's ``sessionId`` (Session.groovy);
    ``NXF_IGNORE_RESUME_HISTORY`` skips the local history check that ``-resume`` would fail
    in a fresh container (ScriptRunner.groovy, HistoryFile.groovy); ``NXF_CLOUDCACHE_PATH``
    enables the cloud cache there (ConfigBuilder.groovy), so a later ``-resume <sessionId>``
    finds the cached tasks.
    """
    values = {
        "NXF_ANSI_LOG": "false",
        "NXF_WORK": job.work_dir,
        "NXF_UUID": job.session_id,
        "NXF_IGNORE_RESUME_HISTORY": "true",
    }
    cache = cache_path(job)
    if cache:
        values["NXF_CLOUDCACHE_PATH"] = cache
    values.update(
        {
            "TOWER_WORKFLOW_ID": job.run_id,
            "TOWER_WORKSPACE_ID": str(job.workspace_id),
            "TOWER_API_ENDPOINT": job.api_endpoint,
        }
    )
    if job.nextflow_version:
        values["NXF_VER"] = job.nextflow_version
    values.update(dict(job.environment))
    if job.trace_token:
        values[TOKEN_ENV] = job.trace_token
    values[BOOT_ENV] = boot_value(job)
    return [{"name": k, "value": v} for k, v in values.items()]


def container_overrides(job: HeadJob) -> dict[str, Any]:
    """SubmitJob's ``containerOverrides``: the fixed command, the environment, resources."""
    return {
        "command": ["bash", "-c", BOOT_COMMAND],
        "environment": environment(job),
        "resourceRequirements": [
            {"type": "VCPU", "value": str(job.cpus)},
            {"type": "MEMORY", "value": str(job.memory_mb)},
        ],
    }


def overrides_size(overrides: dict[str, Any]) -> int:
    """Characters of the overrides as compact JSON, what ECS measures against its limit."""
    return len(json.dumps(overrides, separators=(",", ":")))


def overrides_breakdown(job: HeadJob) -> dict[str, int]:
    """Characters per part of the overrides: to say *what* is too big."""
    env = environment(job)
    head_names = {name for name, _ in job.environment}

    def size(items: list[dict[str, str]]) -> int:
        return overrides_size({"environment": items}) - len('{"environment":[]}')

    return {
        "bootstrap script": len(boot_value(job)),
        "environment variables": size([e for e in env if e["name"] in head_names]),
        "other": overrides_size(container_overrides(job))
        - len(boot_value(job))
        - size([e for e in env if e["name"] in head_names]),
    }


def retry_strategy(job: HeadJob) -> dict[str, Any] | None:
    """Retry the head job when its spot instance is reclaimed; exit on anything else."""
    if not job.spot_retry:
        return None
    return {
        "attempts": SPOT_RECLAIM_ATTEMPTS,
        "evaluateOnExit": [
            {"onStatusReason": "Host EC2*", "action": "RETRY"},
            {"onReason": "*", "action": "EXIT"},
        ],
    }


def submit_request(job: HeadJob, job_definition_arn: str) -> dict[str, Any]:
    """The SubmitJob parameters (labels as tags, propagated to the ECS task)."""
    request: dict[str, Any] = {
        "jobName": job_name(job.run_name, job.run_id),
        "jobQueue": job.head_queue,
        "jobDefinition": job_definition_arn,
        "containerOverrides": container_overrides(job),
        "tags": {"batchforge:run-id": job.run_id, **dict(job.tags)},
        "propagateTags": True,
    }
    strategy = retry_strategy(job)
    if strategy is not None:
        request["retryStrategy"] = strategy
    return request
