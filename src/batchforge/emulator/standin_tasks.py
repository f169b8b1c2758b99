"""The stand-in's task jobs: the AWS calls nf-amazon's ``AwsBatchTaskHandler`` makes per task.

For each task: PutObject of ``.command.sh``/``.command.run`` in the task's work dir,
DescribeJobDefinitions (find by name and ``nf-token``) or RegisterJobDefinition, SubmitJob
``tw-<TOWER_WORKFLOW_ID>-<task>`` on ``process.queue``, DescribeJobs until the job ends,
ListObjectsV2 of the task dir, ``.exitcode`` (written by the stand-in: no task container
runs), then the cache entry (cloud cache in S3, or ``.nextflow/cache`` locally).  On resume a
task whose cache entry says it succeeded is not submitted again ("Cached").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchforge.emulator.standin import VERSION, aws_error_text, fail
from batchforge.emulator.standin_aws import Aws

POLL_SECONDS = 0.5
MAX_WAIT_SECONDS = 900.0
# report(task, status): a task moved to NEW, SUBMITTED, RUNNING, COMPLETED, FAILED or CACHED
# (the events Nextflow's trace observers get; see standin_trace_data.Reporter).
Report = Callable[["Task", str], None]


def _quiet(task: Task, status: str) -> None:
    """No observer: nothing reported."""


@dataclass
class Settings:
    run_name: str
    session: str
    resumed: bool
    work_dir: str
    cache: str | None
    region: str
    queue: str | None
    image: str
    job_role: str | None
    execution_role: str | None
    logs_group: str | None
    cli_path: str | None
    volumes: list[str] = field(default_factory=list)
    tasks: int = 1
    task_seconds: float = 0.0
    workflow_id: str | None = None


@dataclass
class Task:
    index: int
    hash: str
    name: str
    job_id: str | None = None
    status: str | None = None
    exit_code: int | None = None

    @property
    def short(self) -> str:
        return f"{self.hash[:2]}/{self.hash[2:8]}"


def split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def job_name(task_name: str, workflow_id: str | None) -> str:
    name = f"tw-{workflow_id}-{task_name}" if workflow_id else task_name
    return re.sub(r"[^a-zA-Z0-9_-]", "", name.replace(" ", "_"))[:128]


def definition_request(s: Settings) -> dict[str, Any]:
    container: dict[str, Any] = {
        "image": s.image,
        "command": ["true"],
        "resourceRequirements": [
            {"type": "VCPU", "value": "1"},
            {"type": "MEMORY", "value": "1024"},
        ],
    }
    if s.job_role:
        container["jobRoleArn"] = s.job_role
    if s.execution_role:
        container["executionRoleArn"] = s.execution_role
    if s.logs_group:
        container["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {"awslogs-region": s.region, "awslogs-group": s.logs_group},
        }
    mounts = {}
    if s.cli_path:
        root = str(Path(s.cli_path).parent.parent)
        mounts["aws-cli"] = f"{root}:{root}:ro"
    for n, vol in enumerate(s.volumes, 1):
        mounts[f"vol-{n}"] = vol
    if mounts:
        container["mountPoints"], container["volumes"] = [], []
        for name, spec in mounts.items():
            parts = spec.split(":")
            if len(parts) > 3:
                fail(f"ERROR ~ Not a valid volume mount syntax: {spec}")
            container["mountPoints"].append(
                {
                    "sourceVolume": name,
                    "containerPath": parts[1] if len(parts) > 1 else parts[0],
                    "readOnly": len(parts) > 2 and parts[2] == "ro",
                }
            )
            container["volumes"].append({"name": name, "host": {"sourcePath": parts[0]}})
    name = "nf-" + re.sub(r"[^a-zA-Z0-9\-_]+", "-", s.image)
    token = hashlib.md5(json.dumps([name, container], sort_keys=True).encode()).hexdigest()
    return {
        "jobDefinitionName": name,
        "type": "container",
        "containerProperties": container,
        "parameters": {"nf-token": token},
        "tags": {
            "nextflow.io/version": VERSION,
            "nextflow.io/createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def job_definition(batch: Any, s: Settings) -> str:
    request = definition_request(s)
    name, token = request["jobDefinitionName"], request["parameters"]["nf-token"]
    found = batch.describe_job_definitions(jobDefinitionName=name)["jobDefinitions"]
    for item in found:
        if item.get("status") == "ACTIVE" and item.get("parameters", {}).get("nf-token") == token:
            return f"{name}:{item['revision']}"
    answer = batch.register_job_definition(**request)
    return f"{answer['jobDefinitionName']}:{answer['revision']}"


class Cache:
    """Task cache entries: the cloud cache in S3 when enabled, else ``.nextflow/cache``."""

    def __init__(self, s3: Any, s: Settings) -> None:
        self.s3, self.s = s3, s

    def _key(self, name: str) -> tuple[str, str]:
        assert self.s.cache is not None
        bucket, prefix = split(self.s.cache)
        return bucket, "/".join(p for p in (prefix, self.s.session, name) if p)

    def get(self, task: Task) -> dict[str, Any] | None:
        if self.s.cache:
            bucket, key = self._key(task.hash)
            try:
                return json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            except self.s3.exceptions.NoSuchKey:
                return None
        path = Path(".nextflow/cache") / self.s.session / f"{task.hash}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def put(self, task: Task) -> None:
        entry = json.dumps({"name": task.name, "jobId": task.job_id, "exit": task.exit_code})
        if self.s.cache:
            bucket, key = self._key(task.hash)
            self.s3.put_object(Bucket=bucket, Key=key, Body=entry.encode())
            bucket, key = self._key(f"index.{self.s.run_name}")
            self.s3.put_object(Bucket=bucket, Key=key, Body=task.hash.encode())
            return
        path = Path(".nextflow/cache") / self.s.session / f"{task.hash}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entry)


def run_tasks(s: Settings, log: Any, report: Report = _quiet) -> bool:
    """Submit the tasks and wait for them; True when one failed (Nextflow's error printed).
    ``report`` hears each task's moves (the trace observer)."""
    from batchforge.emulator.standin_run import PROCESS, task_hash

    aws = Aws(s.region)
    if not getattr(aws.enforcer, "available", True):
        log.debug("IAM enforcement: unavailable (batchforge.iam.enforce not importable)")
    batch, s3 = aws.client("batch"), aws.client("s3")
    cache = Cache(s3, s)
    tasks = [
        Task(i, task_hash(s.session, PROCESS, i), f"{PROCESS} ({i})") for i in range(1, s.tasks + 1)
    ]
    _terminate_on_signal(batch, tasks, log)
    log.info(f"executor >  awsbatch ({len(tasks)})")
    for task in tasks:
        report(task, "NEW")
    definition: str | None = None
    pending: list[Task] = []
    for task in tasks:
        try:
            entry = cache.get(task) if s.resumed else None
            if entry and entry.get("exit") == 0:
                task.status, task.exit_code = "CACHED", 0
                log.info(f"[{task.short}] Cached process > {task.name}")
                report(task, "CACHED")
                continue
            definition = definition or job_definition(batch, s)
            submit(s, batch, s3, task, definition)
        except Exception as error:
            return _task_error(log, task, error)
        log.info(f"[{task.short}] Submitted process > {task.name}")
        report(task, "SUBMITTED")
        pending.append(task)
    try:
        wait(batch, pending, report)
        for task in pending:
            finish(s, s3, cache, task)
    except Exception as error:
        return _task_error(log, pending[0] if pending else tasks[0], error)
    for task in pending:
        if task.exit_code != 0:
            log.info(f"ERROR ~ Error executing process > '{task.name}'")
            log.info(
                f"Caused by:\n  Process `{task.name}` terminated with an error exit status ({task.exit_code})"  # noqa: E501
            )
            return True
    return False


def _terminate_on_signal(batch: Any, tasks: list[Task], log: Any) -> None:
    """SIGTERM/SIGINT (the head job terminated): kill every task job still alive, as
    AwsBatchTaskHandler.kill does (TerminateJob, reason 'Job killed by NF'), then exit."""

    def handler(signum: int, _frame: Any) -> None:
        for task in tasks:
            if task.job_id and task.status not in ("SUCCEEDED", "FAILED"):
                with contextlib.suppress(Exception):
                    batch.terminate_job(jobId=task.job_id, reason="Job killed by NF")
        log.debug(f"signal {signum}: task jobs terminated")
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _task_error(log: Any, task: Task, error: Exception) -> bool:
    log.info(f"ERROR ~ Error executing process > '{task.name}'")
    log.info(f"\nCaused by:\n  {aws_error_text(error)}")
    return True


def task_dir(s: Settings, task: Task) -> tuple[str, str]:
    bucket, prefix = split(s.work_dir)
    return bucket, "/".join(p for p in (prefix, task.hash[:2], task.hash[2:]) if p)


def submit(s: Settings, batch: Any, s3: Any, task: Task, definition: str) -> None:
    bucket, prefix = task_dir(s, task)
    uri = f"s3://{bucket}/{prefix}"
    s3.put_object(
        Bucket=bucket, Key=f"{prefix}/.command.sh", Body=b"#!/bin/bash -ue\necho 'stand-in task'\n"
    )
    s3.put_object(
        Bucket=bucket, Key=f"{prefix}/.command.run", Body=b"#!/bin/bash\nbash .command.sh\n"
    )
    aws = f"{s.cli_path} s3 cp --only-show-errors" if s.cli_path else "aws s3 cp --only-show-errors"
    command = (
        f'trap "{{ ret=$?; {aws} .command.log {uri}/.command.log||true; exit $ret; }}" EXIT; '
        f"{aws} {uri}/.command.run - | bash 2>&1 | tee .command.log"
    )
    overrides: dict[str, Any] = {"command": ["bash", "-o", "pipefail", "-c", command]}
    if s.task_seconds > 0:
        overrides["environment"] = [
            {"name": "BATCHFORGE_STANDIN_TASK_SECONDS", "value": str(s.task_seconds)}
        ]
    answer = batch.submit_job(
        jobName=job_name(task.name, s.workflow_id),
        jobQueue=s.queue,
        jobDefinition=definition,
        containerOverrides=overrides,
    )
    task.job_id = answer["jobId"]


def wait(batch: Any, tasks: list[Task], report: Report = _quiet) -> None:
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    waiting = [t for t in tasks if t.job_id]
    while waiting and time.monotonic() < deadline:
        for start in range(0, len(waiting), 100):
            chunk = waiting[start : start + 100]
            found = batch.describe_jobs(jobs=[t.job_id for t in chunk])["jobs"]
            by_id = {job["jobId"]: job for job in found}
            for task in chunk:
                job = by_id.get(task.job_id or "", {})
                was, task.status = task.status, job.get("status")
                started = ("RUNNING", "SUCCEEDED", "FAILED")
                if task.status in started and was not in started:
                    # AwsBatchTaskHandler.checkIfRunning holds for an ended job too: a task
                    # always starts before it completes, even between two polls
                    report(task, "RUNNING")
                if task.status in ("SUCCEEDED", "FAILED"):
                    code = job.get("container", {}).get("exitCode")
                    task.exit_code = code if code is not None else int(task.status != "SUCCEEDED")
                    report(task, "COMPLETED" if task.exit_code == 0 else "FAILED")
        waiting = [t for t in waiting if t.status not in ("SUCCEEDED", "FAILED")]
        if waiting:
            time.sleep(POLL_SECONDS)
    if waiting:
        fail(f"ERROR ~ stand-in gave up waiting for {len(waiting)} task job(s)")


def finish(s: Settings, s3: Any, cache: Cache, task: Task) -> None:
    bucket, prefix = task_dir(s, task)
    s3.put_object(Bucket=bucket, Key=f"{prefix}/.exitcode", Body=str(task.exit_code).encode())
    s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")
    cache.put(task)
