"""A run reported as Nextflow's nf-tower plugin reports it, for the surfaces' tests (CLI, web
UI): ``POST /trace/create`` (no ``workflowId``: a run launched anywhere with ``-with-tower``),
``PUT /trace/{id}/begin``, ``progress`` batches of full task snapshots (at most 100 tasks
each), ``complete`` with the metrics per process.  Field names and units as
``reference/nextflow-trace-protocol.md`` lists them (``TraceRecord`` keys; durations in ms,
memory in bytes; dates ISO-8601 with offset; ``exit`` 2147483647 while unknown).

Authorization is nf-tower 1.9.3's for a non-JWT token: ``Basic base64("@token:" + token)``.
"""

from __future__ import annotations

import base64
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

UNKNOWN_EXIT = 2147483647
PROCESSES = ("FASTQC", "ALIGN_READS", "NFCORE_RNASEQ:QUANTIFY:SALMON_QUANT")


def basic_auth(token: str) -> dict[str, str]:
    encoded = base64.b64encode(f"@token:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def task_snapshot(task_id: int, process: str, status: str, index: int) -> dict[str, Any]:
    """A task as the plugin sends it in ``progress``: a full snapshot of its current state."""
    base = datetime(2026, 12, 5, 8, 0, tzinfo=UTC) + timedelta(seconds=task_id * 7)
    snapshot: dict[str, Any] = {
        "taskId": task_id,
        "hash": f"{task_id:02x}/{task_id * 7919:06x}",
        "nativeId": f"job-{task_id:04d}-{process.lower().replace(':', '-')}"[:100],
        "process": process,
        "name": f"{process} (sample_{index})",
        "tag": f"sample_{index}",
        "status": status,
        "exit": UNKNOWN_EXIT,
        "submit": _iso(base),
        "attempt": 1,
        "cpus": 2,
        "memory": 4 * 1024**3,
        "time": 3_600_000,
        "disk": None,
        "workdir": f"s3://bucket/work/{task_id:02x}/{task_id * 7919:06x}",
        "script": f"echo {process} sample_{index}\nsleep 1\n",
        "queue": "TowerForge-abc-work",
        "executor": "awsbatch",
        "container": "quay.io/biocontainers/fastqc:0.12.1",
        "machineType": "m6i.large",
        "cloudZone": "us-east-1a",
        "priceModel": "spot",
        "env": "SAMPLE=sample_x\n",
        "unknownFutureField": {"ignored": True},
    }
    if status in ("RUNNING", "COMPLETED", "FAILED"):
        snapshot["start"] = _iso(base + timedelta(seconds=20))
    if status in ("COMPLETED", "FAILED"):
        realtime = 30_000 + (task_id * 3_217) % 240_000
        snapshot |= {
            "complete": _iso(base + timedelta(seconds=20, milliseconds=realtime)),
            "exit": 0 if status == "COMPLETED" else 1,
            "duration": realtime + 20_000,
            "realtime": realtime,
            "pcpu": 40.0 + (task_id * 37) % 150,
            "pmem": 1.5 + (task_id % 7),
            "rss": (200 + (task_id * 53) % 1800) * 1024**2,
            "peakRss": (300 + (task_id * 71) % 2500) * 1024**2,
            "vmem": (900 + task_id % 500) * 1024**2,
            "peakVmem": (1000 + task_id % 600) * 1024**2,
            "rchar": (50 + (task_id * 97) % 4000) * 1024**2,
            "wchar": (10 + (task_id * 31) % 900) * 1024**2,
            "syscr": 1200 + task_id,
            "syscw": 300 + task_id,
            "readBytes": 4096 * task_id,
            "writeBytes": 8192 * task_id,
            "volCtxt": 40 + task_id,
            "invCtxt": 3 + task_id % 5,
            "errorAction": "TERMINATE" if status == "FAILED" else None,
        }
    return snapshot


def _quartiles(values: list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    values = sorted(values)
    if len(values) == 1:
        q1 = q2 = q3 = values[0]
    else:
        q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {
        "mean": statistics.fmean(values),
        "min": values[0],
        "q1": q1,
        "q2": q2,
        "q3": q3,
        "max": values[-1],
        "minLabel": "a",
        "maxLabel": "b",
        "q1Label": "c",
        "q2Label": "d",
        "q3Label": "e",
    }


def metrics_of(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``WorkflowMetrics`` per process as Nextflow's ``ReportSummary`` computes them (over
    completed tasks): cpu=%cpu, mem=peak_rss, vmem=peak_vmem, time=realtime, reads=rchar,
    writes=wchar, cpuUsage=%cpu/cpus, memUsage=peak_rss/memory*100, timeUsage=realtime/time*100."""
    found = []
    for process in dict.fromkeys(t["process"] for t in tasks):
        done = [t for t in tasks if t["process"] == process and t["status"] == "COMPLETED"]

        def series(key: str, done: list[dict[str, Any]] = done) -> list[float]:
            return [float(t[key]) for t in done]

        found.append(
            {
                "process": process.rsplit(":", 1)[-1],
                "cpu": _quartiles(series("pcpu")),
                "mem": _quartiles(series("peakRss")),
                "vmem": _quartiles(series("peakVmem")),
                "time": _quartiles(series("realtime")),
                "reads": _quartiles(series("rchar")),
                "writes": _quartiles(series("wchar")),
                "cpuUsage": _quartiles([t["pcpu"] / t["cpus"] for t in done]),
                "memUsage": _quartiles([t["peakRss"] / t["memory"] * 100 for t in done]),
                "timeUsage": _quartiles([t["realtime"] / t["time"] * 100 for t in done]),
            }
        )
    return found


@dataclass
class FedRun:
    """A run fed through ``/trace/*``; ``tasks`` are the last snapshots sent."""

    run_id: str
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)


class TraceFeed:
    """Speaks the trace protocol to a server at ``url`` with ``token``."""

    def __init__(self, url: str, token: str, workspace_id: int | None = None):
        self.http = httpx.Client(base_url=url, headers=basic_auth(token), timeout=60)
        self.params = {"workspaceId": workspace_id} if workspace_id is not None else {}

    def close(self) -> None:
        self.http.close()

    def _send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "instant": int(time.time() * 1000)}
        response = self.http.request(method, path, json=body, params=self.params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return dict(response.json())

    def create(self, run_name: str = "quirky-hopper", workflow_id: str | None = None) -> FedRun:
        """``workflow_id``: a run batchforge launched (``TOWER_WORKFLOW_ID``); None: a run
        launched elsewhere, created by this call."""
        answer = self._send(
            "POST",
            "/trace/create",
            {
                "sessionId": "5d5b0a3c-5a7e-4c0e-9b1e-1f0a7e4b9c11",
                "runName": run_name,
                "projectName": "nf-core/rnaseq",
                "repository": "https://github.com/nf-core/rnaseq",
                "workflowId": workflow_id,
            },
        )
        return FedRun(str(answer["workflowId"]))

    def begin(self, run: FedRun, processes: tuple[str, ...] = PROCESSES) -> None:
        workflow = {
            "id": run.run_id,
            "runName": "quirky-hopper",
            "sessionId": "5d5b0a3c-5a7e-4c0e-9b1e-1f0a7e4b9c11",
            "projectName": "nf-core/rnaseq",
            "repository": "https://github.com/nf-core/rnaseq",
            "commitId": "3bec2331cac2b5ff88a1dc71a21fab6529b57a0f",
            "revision": "3.14.0",
            "commandLine": "nextflow run nf-core/rnaseq -r 3.14.0 -with-tower",
            "workDir": "s3://bucket/work",
            "userName": "nextflow",
            "start": _iso(datetime.now(UTC)),
            "nextflow": {"version": "24.10.5", "build": "5935", "timestamp": "x", "enable": {}},
            "params": {"input": "samples.csv"},
            "configText": "process.executor = 'awsbatch'",
            "resume": False,
            "success": False,
        }
        self._send(
            "PUT",
            f"/trace/{run.run_id}/begin",
            {"workflow": workflow, "processNames": list(processes), "towerLaunch": False},
        )

    def progress(self, run: FedRun, snapshots: list[dict[str, Any]]) -> None:
        """Send snapshots in batches of at most 100, with a progress computed from all the
        tasks known so far (as the plugin's ``WorkflowProgress`` would count them)."""
        for snapshot in snapshots:
            run.tasks[snapshot["taskId"]] = snapshot
        for start in range(0, max(len(snapshots), 1), 100):
            batch = snapshots[start : start + 100]
            self._send(
                "PUT",
                f"/trace/{run.run_id}/progress",
                {"tasks": batch, "progress": self.counts(run)},
            )

    @staticmethod
    def counts(run: FedRun) -> dict[str, Any]:
        names = {
            "NEW": "pending",
            "SUBMITTED": "submitted",
            "RUNNING": "running",
            "COMPLETED": "succeeded",
            "FAILED": "failed",
            "CACHED": "cached",
            "ABORTED": "aborted",
        }
        keys = ("pending", "submitted", "running", "succeeded", "failed", "cached", "aborted")
        per: dict[str, dict[str, Any]] = {}
        total = dict.fromkeys(keys, 0)
        for task in run.tasks.values():
            key = names[task["status"]]
            entry = per.setdefault(
                task["process"],
                {"name": task["process"], "index": len(per), **dict.fromkeys(keys, 0)},
            )
            entry[key] += 1
            total[key] += 1
        running = [t for t in run.tasks.values() if t["status"] == "RUNNING"]
        return {
            **total,
            "ignored": 0,
            "retries": 0,
            "loadCpus": sum(t["cpus"] for t in running),
            "loadMemory": sum(t["memory"] for t in running),
            "peakRunning": len(running),
            "peakCpus": sum(t["cpus"] for t in running),
            "peakMemory": sum(t["memory"] for t in running),
            "processes": list(per.values()),
        }

    def complete(self, run: FedRun, success: bool = True) -> None:
        tasks = list(run.tasks.values())
        workflow = {
            "id": run.run_id,
            "complete": _iso(datetime.now(UTC)),
            "duration": 600_000,
            "success": success,
            "exitStatus": 0 if success else 1,
            "errorMessage": None if success else "Process ALIGN_READS failed",
        }
        self._send(
            "PUT",
            f"/trace/{run.run_id}/complete",
            {"workflow": workflow, "metrics": metrics_of(tasks), "progress": self.counts(run)},
        )


def workload(count: int, status_of: Any = None) -> list[dict[str, Any]]:
    """``count`` tasks spread over :data:`PROCESSES`; ``status_of(task_id)`` gives each one's
    status (default: COMPLETED, with task 5 FAILED)."""

    def default(task_id: int) -> str:
        return "FAILED" if task_id == 5 else "COMPLETED"

    choose = status_of or default
    return [
        task_snapshot(i, PROCESSES[i % len(PROCESSES)], choose(i), i // len(PROCESSES))
        for i in range(1, count + 1)
    ]


def batch_task(aws: Any, jobs: Any, run_id: str, queue: str, log_lines: list[str]) -> str:
    """A task job of run ``run_id`` as Nextflow submits it (``tw-<runId>-…`` on the compute
    queue), finished, with ``log_lines`` in its CloudWatch stream (``/aws/batch/job``); the
    Batch job layer (``tests/batchjobs.py``) reports the stream as AWS does.  Its id."""
    batch = aws.boto_client("batch")
    definition = batch.register_job_definition(
        jobDefinitionName="bf-test-task",
        type="container",
        containerProperties={"image": "busybox", "vcpus": 1, "memory": 128},
    )["jobDefinitionArn"]
    job_id = str(
        batch.submit_job(jobName=f"tw-{run_id}-align", jobQueue=queue, jobDefinition=definition)[
            "jobId"
        ]
    )
    stream = f"bf-test-task/default/{job_id}"
    logs = aws.boto_client("logs")
    group = "/aws/batch/job"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": line} for i, line in enumerate(log_lines)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    jobs.set(job_id, "SUCCEEDED", exit_code=0, log_stream=stream)
    return job_id
