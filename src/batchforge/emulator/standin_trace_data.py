"""What the stand-in reports: task snapshots, progress, workflow metadata and metrics, shaped as
nf-tower 1.9.3 serialises Nextflow 24.10.5's ``TraceRecord``, ``WorkflowStats`` /
``ProgressRecord``, ``WorkflowMetadata`` and ``ReportSummary``.

**Fabricated values**: the stand-in runs no pipeline code and the emulator runs no task
container, so nothing measures a task.  ``pcpu``, ``rss``/``peakRss``, ``vmem``/``peakVmem``,
``rchar``/``wchar``, ``readBytes``/``writeBytes``, ``syscr``/``syscw``, ``volCtxt``/``invCtxt``
are plausible numbers drawn from the task hash (the same task always gets the same ones);
``machineType``, ``cloudZone`` and ``priceModel`` are what nf-amazon would read from the
task's EC2 instance, which the emulator does not have (:data:`MACHINE_TYPE`, the region's
``a`` zone, ``standard``); the ``commitId`` is a hash of the pipeline and revision, since
nothing is fetched.  Dates, durations, exit codes, ``nativeId`` (the task's Batch job id) and
statuses are real: they follow the task jobs in the emulator.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from batchforge.emulator.standin import VERSION

UNKNOWN_EXIT = 2147483647  # Integer.MAX_VALUE: TraceRecord's exit while unknown
MACHINE_TYPE = "m5.large"
BUILD = 5937
CPUS = 1
MEMORY = 1024 * 1024 * 1024  # the task job definition's 1024 MiB


def java_time(epoch_ms: float | None) -> str | None:
    """``OffsetDateTime.toString()`` in UTC: ``HH:mm`` then ``:ss`` only when seconds or
    fractions are not zero, then ``.SSS`` only when milliseconds are not zero; ``Z``."""
    if epoch_ms is None:
        return None
    stamp = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M")
    millis = int(epoch_ms) % 1000
    if stamp.second or millis:
        text += f":{stamp.second:02d}"
    if millis:
        text += f".{millis:03d}"
    return text + "Z"


def _ms() -> int:
    return int(time.time() * 1000)


@dataclass
class TaskTrace:
    """One task's ``TraceRecord`` store, renamed as nf-tower sends it (``makeTaskMap0``)."""

    task_id: int
    hash: str
    name: str
    process: str
    workdir: str
    queue: str | None
    container: str
    region: str
    status: str = "NEW"
    native_id: str | None = None
    submit: int | None = None
    start: int | None = None
    complete: int | None = None
    exit: int = UNKNOWN_EXIT
    cached: bool = False

    def snapshot(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "taskId": self.task_id,
            "hash": f"{self.hash[:2]}/{self.hash[2:8]}",
            "name": self.name,
            "process": self.process,
            "tag": None,
            "status": self.status,
            "exit": self.exit,
            "attempt": 1,
            "cpus": CPUS,
            "memory": MEMORY,
            "workdir": self.workdir,
            "script": "\n    echo 'stand-in task'\n    ",
            "queue": self.queue,
            "container": self.container,
            "executor": "awsbatch",
            "errorAction": None,
        }
        if self.native_id:
            record["nativeId"] = self.native_id
        if self.submit is not None:
            record["submit"] = java_time(self.submit)
        if self.start is not None:
            record["start"] = java_time(self.start)
            record["machineType"] = MACHINE_TYPE
            record["cloudZone"] = f"{self.region}a"
            record["priceModel"] = "standard"
        if self.complete is not None:
            record.update(self._measures())
        return record

    def _measures(self) -> dict[str, Any]:
        """Final values: real times, fabricated usage (see the module docstring)."""
        assert self.complete is not None
        start = self.start if self.start is not None else self.complete
        submit = self.submit if self.submit is not None else start
        draw = random.Random(self.hash)
        peak_rss = draw.randint(8, 200) * 1024 * 1024
        peak_vmem = peak_rss + draw.randint(100, 800) * 1024 * 1024
        rchar, wchar = draw.randint(10_000, 50_000_000), draw.randint(1_000, 20_000_000)
        values: dict[str, Any] = {
            "complete": java_time(self.complete),
            "duration": max(0, self.complete - submit),
            "realtime": max(0, self.complete - start),
            "pcpu": round(draw.uniform(20.0, 99.0), 1),
            "pmem": round(peak_rss / (8 * 1024**3) * 100, 1),
            "rss": int(peak_rss * 0.9),
            "vmem": int(peak_vmem * 0.9),
            "peakRss": peak_rss,
            "peakVmem": peak_vmem,
            "rchar": rchar,
            "wchar": wchar,
            "syscr": draw.randint(100, 20_000),
            "syscw": draw.randint(50, 10_000),
            "readBytes": rchar // 2,
            "writeBytes": wchar,
            "volCtxt": draw.randint(10, 5_000),
            "invCtxt": draw.randint(0, 500),
        }
        if self.status == "FAILED":
            values["errorAction"] = "TERMINATE"
        return values


@dataclass
class RunTrace:
    """The run's tasks and ``WorkflowStats`` (one process), updated as the tasks move."""

    process: str
    tasks: dict[int, TaskTrace] = field(default_factory=dict)
    peak_running: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def move(self, task: TaskTrace, status: str, **values: Any) -> dict[str, Any]:
        """Set ``task``'s status (and dates, exit, native id); its new snapshot."""
        with self._lock:
            self.tasks[task.task_id] = task
            task.status = status
            for name, value in values.items():
                setattr(task, name, value)
            now = _ms()
            if status == "SUBMITTED" and task.submit is None:
                task.submit = now
            if status == "RUNNING" and task.start is None:
                task.start = now
            if status in ("COMPLETED", "FAILED", "CACHED") and task.complete is None:
                task.complete = now
            running = sum(t.status == "RUNNING" for t in self.tasks.values())
            self.peak_running = max(self.peak_running, running)
            return task.snapshot()

    def progress(self, quick: bool = True) -> dict[str, Any]:
        """``WorkflowProgress``: run totals, load and peaks, and the process's record."""
        with self._lock:
            counts = self._counts()
            process = {"index": 1, "name": self.process, **counts}
            process["stored"] = 0
            process["terminated"] = bool(self.tasks) and all(
                t.status in ("COMPLETED", "FAILED", "CACHED") for t in self.tasks.values()
            )
            return {**counts, "processes": [process]}

    def _counts(self) -> dict[str, Any]:
        by = [t.status for t in self.tasks.values()]
        running = by.count("RUNNING")
        return {
            "pending": by.count("NEW"),
            "submitted": by.count("SUBMITTED"),
            "running": running,
            "succeeded": by.count("COMPLETED"),
            "failed": by.count("FAILED"),
            "ignored": 0,
            "cached": by.count("CACHED"),
            "retries": 0,
            "aborted": by.count("ABORTED"),
            "loadCpus": running * CPUS,
            "loadMemory": running * MEMORY,
            "peakRunning": self.peak_running,
            "peakCpus": self.peak_running * CPUS,
            "peakMemory": self.peak_running * MEMORY,
        }

    def metrics(self) -> list[dict[str, Any]]:
        """``ResourcesAggregator.computeSummaryList``: per process, over completed and cached
        tasks, ``ReportSummary``'s series (quantiles with linear interpolation, rounded)."""
        with self._lock:
            done = [t.snapshot() for t in self.tasks.values() if t.complete is not None]
        if not done:
            return []
        series = {
            "cpu": lambda r: r.get("pcpu"),
            "mem": lambda r: r.get("peakRss"),
            "vmem": lambda r: r.get("peakVmem"),
            "time": lambda r: r.get("realtime"),
            "reads": lambda r: r.get("rchar"),
            "writes": lambda r: r.get("wchar"),
            "cpuUsage": lambda r: r["pcpu"] / (r.get("cpus") or 1) if r.get("pcpu") else None,
            "memUsage": lambda r: (
                r["peakRss"] / r["memory"] * 100 if r.get("peakRss") and r.get("memory") else None
            ),
            "timeUsage": lambda r: None,  # no `time` directive: nothing to compare with
        }
        entry: dict[str, Any] = {"process": self.process}
        for name, metric in series.items():
            entry[name] = summary(done, metric)
        return [entry]


def summary(records: list[dict[str, Any]], metric: Any) -> dict[str, Any] | None:
    """``ReportSummary.Summary.compute``: Seqera's ``ResourceData`` or None."""
    rows = [(float(v), r["name"]) for r in records if (v := metric(r)) is not None]
    if not rows:
        return None
    rows.sort(key=lambda row: row[0])

    def quantile(q: int) -> tuple[float, str]:
        j = (len(rows) - 1) * q / 100
        i, k = int(j // 1), int(-(-j // 1))
        value = rows[i][0] + (j - i) * (rows[k][0] - rows[i][0])
        return value, rows[i][1]

    result: dict[str, Any] = {"mean": round(sum(v for v, _ in rows) / len(rows), 2)}
    labels = {}
    for key, q in (("min", 0), ("q1", 25), ("q2", 50), ("q3", 75), ("max", 100)):
        value, label = quantile(q)
        result[key] = round(value, 2)
        labels[key] = label
    if result["min"] == 0 and result["min"] == result["max"]:
        return None
    result.update(
        minLabel=rows[0][1],
        maxLabel=rows[-1][1],
        q1Label=labels["q1"],
        q2Label=labels["q2"],
        q3Label=labels["q3"],
    )
    return result


def project(pipeline: str) -> tuple[str, str]:
    """(projectName, repository) of ``pipeline``: ``owner/name`` or a repository URL."""
    if "://" in pipeline:
        path = urllib.parse.urlsplit(pipeline).path.strip("/").removesuffix(".git")
        return path, pipeline.removesuffix(".git")
    return pipeline, f"https://github.com/{pipeline}"


def commit_id(pipeline: str, revision: str | None) -> str:
    """A fabricated 40-hex commit id (nothing is fetched), or the revision if it is one."""
    if revision and len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        return revision
    return hashlib.sha1(f"{pipeline}@{revision or 'HEAD'}".encode()).hexdigest()


@dataclass
class Workflow:
    """``WorkflowMetadata.toMap()`` of the run, plus what nf-tower adds (params, configText)."""

    run_name: str
    session: str
    resumed: bool
    pipeline: str
    revision: str | None
    work_dir: str
    command_line: str
    params: dict[str, Any]
    config_text: str
    profile: str
    container: str
    stub_run: bool = False
    start: int = field(default_factory=_ms)

    def metadata(self) -> dict[str, Any]:
        name, repository = project(self.pipeline)
        home = os.environ.get("HOME", "/root")
        launch_dir = os.getcwd()
        project_dir = f"{home}/.nextflow/assets/{name}"
        return {
            "runName": self.run_name,
            "scriptId": hashlib.md5(name.encode()).hexdigest(),
            "scriptFile": f"{project_dir}/main.nf",
            "scriptName": "main.nf",
            "repository": repository,
            "commitId": commit_id(self.pipeline, self.revision),
            "revision": self.revision or "master",
            "start": java_time(self.start),
            "complete": None,
            "duration": None,
            "container": self.container,
            "commandLine": self.command_line,
            "nextflow": {
                "version": VERSION,
                "build": BUILD,
                "timestamp": "2025-02-04T14:52:03Z",
                "enable": {"dsl": 2},
            },
            "success": False,
            "projectDir": project_dir,
            "projectName": name,
            "launchDir": launch_dir,
            "workDir": self.work_dir,
            "homeDir": home,
            "userName": getpass.getuser(),
            "exitStatus": None,
            "errorMessage": None,
            "errorReport": None,
            "profile": self.profile,
            "sessionId": self.session,
            "resume": self.resumed,
            "stubRun": self.stub_run,
            "preview": False,
            "containerEngine": None,
            "wave": {"enabled": False},
            "fusion": {"enabled": False, "version": None},
            "configFiles": [f"{launch_dir}/batchforge.config"],
            "manifest": {"name": name, "mainScript": "main.nf", "defaultBranch": "master"},
            "failOnIgnore": False,
            "params": self.params,
            "configText": self.config_text,
            "operationId": _operation_id(),
            "logFile": _cli_logs("NXF_LOG_FILE"),
            "outFile": _cli_logs("NXF_OUT_FILE"),
        }

    def final(self, trace: RunTrace, exit_status: int, error: str | None) -> dict[str, Any]:
        """The metadata at the end, with the terminal fields and ``stats``."""
        end = _ms()
        counts = trace.progress(False)
        values = self.metadata()
        values.update(
            complete=java_time(end),
            duration=end - self.start,
            success=exit_status == 0,
            exitStatus=exit_status,
            errorMessage=error,
            errorReport=error,
            stats={
                "succeedCount": counts["succeeded"],
                "cachedCount": counts["cached"],
                "failedCount": counts["failed"],
                "ignoredCount": counts["ignored"],
                "succeedCountFmt": str(counts["succeeded"]),
                "cachedCountFmt": str(counts["cached"]),
                "failedCountFmt": str(counts["failed"]),
                "ignoredCountFmt": str(counts["ignored"]),
                "computeTimeFmt": "(a few seconds)",
            },
        )
        return values


def _cli_logs(name: str) -> str | None:
    """``operationId``/``logFile``/``outFile`` only with ``TOWER_ALLOW_NEXTFLOW_LOGS=true``."""
    if os.environ.get("TOWER_ALLOW_NEXTFLOW_LOGS") != "true":
        return None
    return os.environ.get(name)


def _operation_id() -> str | None:
    if os.environ.get("TOWER_ALLOW_NEXTFLOW_LOGS") != "true":
        return None
    job = os.environ.get("AWS_BATCH_JOB_ID")
    return f"aws-batch::{job}" if job else f"local-platform::{os.getpid()}"


class Reporter:
    """Turns the stand-in's task moves into nf-tower events: ``report(task, status)``."""

    def __init__(
        self,
        client: Any,
        trace: RunTrace,
        work_dir: str,
        queue: str | None,
        image: str,
        region: str,
    ) -> None:
        self.client, self.trace = client, trace
        self.work_dir, self.queue, self.image, self.region = work_dir, queue, image, region
        self._tasks: dict[int, TaskTrace] = {}

    def __call__(self, task: Any, status: str) -> None:
        """``task``: a :class:`batchforge.emulator.standin_tasks.Task` (index, hash, name,
        job_id, exit_code)."""
        found = self._tasks.get(task.index)
        if found is None:
            found = self._tasks[task.index] = TaskTrace(
                task_id=task.index,
                hash=task.hash,
                name=task.name,
                process=self.trace.process,
                workdir=f"{self.work_dir}/{task.hash[:2]}/{task.hash[2:]}",
                queue=self.queue,
                container=self.image,
                region=self.region,
            )
        values: dict[str, Any] = {}
        if task.job_id:
            values["native_id"] = task.job_id
        if status in ("COMPLETED", "FAILED", "CACHED") and task.exit_code is not None:
            values["exit"] = task.exit_code
        self.client.event(self.trace.move(found, status, **values))
