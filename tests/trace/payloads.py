"""Request bodies as nf-tower sends them (reference/nextflow-trace-protocol.md §3).

Tasks are full ``TraceRecord`` snapshots with the plugin's key names (``%cpu`` → ``pcpu``,
snake_case → camelCase); dates are Java ``OffsetDateTime.toString()``, which omits the
seconds when they are zero (``2026-12-05T08:00Z``); ``exit`` is Integer.MAX_VALUE while
unknown; ``nativeId`` is the AWS Batch job id.
"""

from __future__ import annotations

import itertools
from typing import Any

UNKNOWN_EXIT = 2147483647
_instants = itertools.count(1_765_000_000_000, 1000)


def instant() -> int:
    """Increasing client clock (epoch millis), one second per request."""
    return next(_instants)


def create(
    workflow_id: str | None,
    session_id: str = "6f1b1c52-8c1e-4a44-9d8f-0c1f2f3e4a5b",
    run_name: str = "tiny_turing",
) -> dict[str, Any]:
    return {
        "sessionId": session_id,
        "runName": run_name,
        "projectName": "nextflow-io/hello",
        "repository": "https://github.com/nextflow-io/hello",
        "workflowId": workflow_id,
        "instant": instant(),
    }


def workflow(run_id: str, **extra: Any) -> dict[str, Any]:
    """``WorkflowMetadata.toMap()`` as begin sends it (complete adds stats and end fields)."""
    return {
        "id": run_id,
        "runName": "tiny_turing",
        "scriptId": "0123456789abcdef0123456789abcdef",
        "scriptFile": "/root/.nextflow/assets/nextflow-io/hello/main.nf",
        "scriptName": "main.nf",
        "repository": "https://github.com/nextflow-io/hello",
        "commitId": "7588c46ffefb4e3c06d4ab32c745c4d5e56cdad8",
        "revision": "master",
        "start": "2026-12-05T08:00:01.250Z",
        "complete": None,
        "duration": None,
        "container": "quay.io/nextflow/bash",
        "commandLine": "nextflow run nextflow-io/hello -with-tower",
        "nextflow": {
            "version": "24.10.5",
            "build": 5935,
            "timestamp": "2025-02-04T14:49:31Z",
            "enable": {"dsl": 2},
        },
        "success": False,
        "projectDir": "/root/.nextflow/assets/nextflow-io/hello",
        "projectName": "nextflow-io/hello",
        "launchDir": "/tmp/launch",
        "workDir": "s3://bf-work/work",
        "homeDir": "/root",
        "userName": "root",
        "exitStatus": None,
        "errorMessage": None,
        "profile": "standard",
        "sessionId": "6f1b1c52-8c1e-4a44-9d8f-0c1f2f3e4a5b",
        "resume": False,
        "stubRun": False,
        "containerEngine": "docker",
        "wave": {"enabled": False},
        "fusion": {"enabled": False, "version": None},
        "configFiles": ["/root/.nextflow/assets/nextflow-io/hello/nextflow.config"],
        "manifest": {
            "name": "nextflow-io/hello",
            "mainScript": "main.nf",
            "defaultBranch": "master",
        },
        "params": {"greeting": "hi"},
        "configText": "process { executor = 'awsbatch' }\n",
        "someFutureField": {"nested": [1, 2]},
        **extra,
    }


def begin(run_id: str, processes: tuple[str, ...] = ("SAY_HELLO", "SUB:UPPER")) -> dict:
    return {
        "workflow": workflow(run_id),
        "processNames": list(processes),
        "towerLaunch": True,
        "instant": instant(),
    }


def task(task_id: int, status: str, process: str = "SAY_HELLO", **extra: Any) -> dict:
    """A task snapshot: fields grow with the status, as TraceRecord's store does."""
    snapshot: dict[str, Any] = {
        "taskId": task_id,
        "status": status,
        "hash": f"{task_id:02x}/{task_id * 7919:06x}",
        "name": f"{process} ({task_id})",
        "process": process,
        "tag": f"sample{task_id}",
        "module": [],
        "container": "quay.io/nextflow/bash",
        "attempt": 1,
        "script": "echo hello",
        "scratch": None,
        "workdir": f"s3://bf-work/work/{task_id:02x}/{task_id * 7919:06x}abcdef",
        "queue": "compute-queue",
        "cpus": 1,
        "memory": 1073741824,
        "disk": None,
        "time": 3600000,
        "env": "AWS_SECRET=********",
        "executor": "awsbatch",
        "exit": UNKNOWN_EXIT,
        "submit": None,
        "start": None,
        "complete": None,
        "errorAction": None,
    }
    if status in ("SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "ABORTED"):
        snapshot.update(
            nativeId=f"job-{task_id:04d}-0000-0000-0000-00000000000{task_id % 10}",
            submit="2026-12-05T08:00:02.123Z",
        )
    if status in ("RUNNING", "COMPLETED", "FAILED"):
        snapshot.update(
            start="2026-12-05T08:01Z",
            machineType="m5.large",
            cloudZone="us-east-1a",
            priceModel="standard",
        )
    if status in ("COMPLETED", "FAILED", "CACHED"):
        snapshot.update(
            exit=0 if status != "FAILED" else 1,
            complete="2026-12-05T08:02:30.5+00:00",
            duration=148000,
            realtime=120000 + task_id,
            pcpu=87.5,
            pmem=1.2,
            rss=52428800,
            vmem=104857600,
            peakRss=62914560,
            peakVmem=115343360,
            rchar=2048,
            wchar=1024,
            readBytes=4096,
            writeBytes=0,
            syscr=10,
            syscw=5,
            volCtxt=3,
            invCtxt=1,
            hostname="ip-10-0-0-1",
            cpuModel="Intel(R) Xeon(R)",
        )
    snapshot.update(extra)
    return snapshot


def quick_progress(**counts: int) -> dict[str, Any]:
    """A ``WorkflowProgress`` snapshot (the client's own counts, load and peaks)."""
    return {
        "pending": 0,
        "submitted": 0,
        "running": 0,
        "succeeded": 0,
        "failed": 0,
        "ignored": 0,
        "cached": 0,
        "retries": 0,
        "aborted": 0,
        "loadCpus": 2,
        "loadMemory": 2147483648,
        "peakRunning": 3,
        "peakCpus": 3,
        "peakMemory": 3221225472,
        "processes": [
            {
                "index": 0,
                "name": "SAY_HELLO",
                "pending": 0,
                "submitted": 0,
                "running": 0,
                "succeeded": 0,
                "failed": 0,
                "cached": 0,
                "aborted": 0,
                "stored": 0,
                "ignored": 0,
                "retries": 1,
                "terminated": False,
                "loadCpus": 2,
                "loadMemory": 2147483648,
                "peakRunning": 3,
                "peakCpus": 3,
                "peakMemory": 3221225472,
            },
        ],
        **counts,
    }


def progress(tasks: list[dict], snapshot: dict | None = None, at: int | None = None) -> dict:
    body: dict[str, Any] = {"tasks": tasks, "instant": at or instant()}
    if snapshot is not None:
        body["progress"] = snapshot
    return body


def resource(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "mean": sum(ordered) / len(ordered),
        "min": ordered[0],
        "q1": ordered[len(ordered) // 4],
        "q2": ordered[len(ordered) // 2],
        "q3": ordered[3 * len(ordered) // 4],
        "max": ordered[-1],
        "minLabel": "SAY_HELLO (1)",
        "maxLabel": "SAY_HELLO (2)",
        "q1Label": "SAY_HELLO (1)",
        "q2Label": "SAY_HELLO (2)",
        "q3Label": "SAY_HELLO (2)",
    }


def complete(run_id: str, success: bool = True, **extra: Any) -> dict[str, Any]:
    flow = workflow(
        run_id,
        complete="2026-12-05T08:10Z",
        duration=600000,
        success=success,
        exitStatus=0 if success else 1,
        errorMessage=None if success else "Process `SAY_HELLO (2)` terminated with an error",
        stats={"succeedCount": 2, "failedCount": 0, "cachedCount": 0, "computeTimeFmt": "0.1"},
        **extra,
    )
    return {
        "workflow": flow,
        "metrics": [
            {
                "process": "SAY_HELLO",
                "cpu": resource([80.0, 95.5]),
                "mem": resource([5e7, 6e7]),
                "time": resource([120000, 130000]),
                "reads": None,
                "writes": None,
            },
        ],
        "progress": quick_progress(succeeded=2),
        "instant": instant(),
    }
