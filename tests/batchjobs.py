"""A test layer that drives AWS Batch head jobs through their lives, at the boto3 boundary.

The emulator finishes a job the moment it is submitted and writes no logs.  Installed through
``AwsEnvironment.event_hooks`` (never a patch of the product), this layer:

- holds every submitted job in ``RUNNABLE`` until the test scripts another state with
  :meth:`BatchJobs.set` (status, reason, exit code, log stream) or :meth:`BatchJobs.vanish`;
- rewrites DescribeJobs answers accordingly (and drops vanished jobs, as AWS does);
- records every SubmitJob request, TerminateJob/CancelJob (with its reason), ListJobs and
  DescribeJobs call;
- ends a held job that TerminateJob reaches (FAILED with the given reason, as AWS does), so a
  task job held RUNNING (:meth:`BatchJobs.hold_running`) stays so until terminated;
- answers ListJobs as AWS documents it, where the emulator does not (ListJobs API reference,
  https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobs.html): statuses as
  scripted here; without ``filters`` only ``jobStatus`` (default RUNNING) jobs; with
  ``filters`` every status (``jobStatus`` ignored), at most 100 a page; newest first;
  pages through ``nextToken`` (the emulator pages nothing and ignores ``maxResults``);
- injects faults: an AWS error answered instead of the emulator (``deny``, ``fail_next``,
  ``throttle``), or a simulated crash before the call reaches AWS or after it did.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.awsrules import FakeHttp, SimulatedCrash, _body, aws_error


@dataclass
class JobScript:
    status: str = "RUNNABLE"
    reason: str | None = None
    exit_code: int | None = None
    log_stream: str | None = None
    started: int | None = None
    stopped: int | None = None


@dataclass
class BatchJobs:
    hold: bool = True
    scripts: dict[str, JobScript] = field(default_factory=dict)
    vanished: set[str] = field(default_factory=set)
    submits: list[dict[str, Any]] = field(default_factory=list)
    submitted_names: Counter[str] = field(default_factory=Counter)
    job_ids: dict[str, str] = field(default_factory=dict)  # job name → id
    calls: Counter[str] = field(default_factory=Counter)
    describe_sizes: list[int] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # job id → TerminateJob reason
    list_requests: list[dict[str, Any]] = field(default_factory=list)
    denied: set[str] = field(default_factory=set)
    _faults: dict[str, list[Callable[[], Any]]] = field(default_factory=dict)
    _after_faults: dict[str, list[Callable[[], Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [
            ("before-parameter-build.batch.ListJobs", self._list_params),
            ("before-call.batch.*", self._before),
            ("after-call.batch.*", self._after),
        ]

    def install(self, client: Any) -> Any:
        """Put this layer on a boto3 Batch client of the test's own (e.g. one submitting
        task jobs as Nextflow would); the client."""
        for name, handler in self.hooks():
            client.meta.events.register(name, handler)
        return client

    def hold_running(self, job_id: str) -> None:
        """The job runs until TerminateJob reaches it."""
        self.set(job_id, "RUNNING")

    # --- scripting -----------------------------------------------------------------------

    def set(
        self,
        job_id: str,
        status: str,
        reason: str | None = None,
        exit_code: int | None = None,
        log_stream: str | None = None,
    ) -> None:
        now = int(time.time() * 1000)
        with self._lock:
            script = self.scripts.setdefault(job_id, JobScript())
            script.status, script.reason, script.exit_code = status, reason, exit_code
            if log_stream:
                script.log_stream = log_stream
            if status in ("RUNNING", "SUCCEEDED", "FAILED") and script.started is None:
                script.started = now
            if status in ("SUCCEEDED", "FAILED"):
                script.stopped = script.started + 1500

    def vanish(self, job_id: str) -> None:
        with self._lock:
            self.vanished.add(job_id)

    def deny(self, operation: str) -> None:
        """Answer AccessDenied to every call of ``operation`` (e.g. "ListJobs")."""
        self.denied.add(operation)

    def fail_next(self, operation: str, code: str, message: str, status: int = 400) -> None:
        self._faults.setdefault(operation, []).append(lambda: aws_error(code, message, status))

    def throttle(self, operation: str, times: int = 1) -> None:
        for _ in range(times):
            self.fail_next(operation, "TooManyRequestsException", "Too Many Requests", 429)

    def crash_before(self, operation: str) -> None:
        """The process dies just before the call leaves (it never reaches AWS)."""
        self._faults.setdefault(operation, []).append(_crash(operation))

    def crash_after(self, operation: str) -> None:
        """The process dies just after AWS carried out the call, before the answer is used."""
        self._after_faults.setdefault(operation, []).append(_crash(operation))

    # --- hooks ---------------------------------------------------------------------------

    def _before(self, model: Any, params: Any, context: Any = None, **_: Any) -> Any:
        operation = model.name
        body = _body(params)
        if context is not None:
            context["batchjobs_body"] = body
        with self._lock:
            self.calls[operation] += 1
            pending = self._faults.get(operation)
            fault = pending.pop(0) if pending else None
        if fault is not None:
            return fault()
        if operation in self.denied:
            return aws_error(
                "AccessDeniedException",
                f"User is not authorized to perform: batch:{operation}",
                403,
            )
        with self._lock:
            if operation == "SubmitJob":
                self.submits.append(body)
                self.submitted_names[body.get("jobName", "")] += 1
            elif operation == "DescribeJobs":
                self.describe_sizes.append(len(body.get("jobs", [])))
            elif operation in ("TerminateJob", "CancelJob"):
                self.terminated.append(body.get("jobId", ""))
                self.reasons[body.get("jobId", "")] = body.get("reason", "")
        return None

    def _list_params(self, params: dict[str, Any], context: Any = None, **_: Any) -> None:
        """Ask the emulator for everything on the queue; the answer is cut in ``_after``."""
        original = dict(params)
        if context is not None:
            context["batchjobs_list"] = original
        with self._lock:
            self.list_requests.append(original)
        for key in ("jobStatus", "maxResults", "nextToken"):
            params.pop(key, None)

    def _after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: Any, **_: Any
    ) -> None:
        if isinstance(http_response, FakeHttp) or http_response.status_code >= 300:
            return
        operation = model.name
        with self._lock:
            pending = self._after_faults.get(operation)
            fault = pending.pop(0) if pending else None
            if operation == "SubmitJob":
                self.job_ids[parsed["jobName"]] = parsed["jobId"]
                if self.hold:
                    self.scripts.setdefault(parsed["jobId"], JobScript())
            elif operation == "DescribeJobs":
                parsed["jobs"] = [self._rewrite(job) for job in parsed.get("jobs", [])]
                parsed["jobs"] = [job for job in parsed["jobs"] if job is not None]
            elif operation == "ListJobs":
                for job in parsed.get("jobSummaryList", []):
                    script = self.scripts.get(job["jobId"])
                    if script:
                        job["status"] = script.status
                if context is not None and "batchjobs_list" in context:
                    self._page(parsed, context["batchjobs_list"])
            elif operation == "TerminateJob":
                job_id = (context or {}).get("batchjobs_body", {}).get("jobId", "")
                script = self.scripts.get(job_id)
                if script is not None and script.status not in ("SUCCEEDED", "FAILED"):
                    script.status = "FAILED"
                    script.reason = (context or {}).get("batchjobs_body", {}).get("reason")
                    script.stopped = int(time.time() * 1000)
                    script.started = script.started or script.stopped
        if fault is not None:
            fault()

    @staticmethod
    def _page(parsed: dict[str, Any], request: dict[str, Any]) -> None:
        """Cut the emulator's whole answer the way AWS pages it (see the module docstring)."""
        jobs = list(parsed.get("jobSummaryList", []))
        if not request.get("filters"):
            wanted = request.get("jobStatus") or "RUNNING"
            jobs = [job for job in jobs if job.get("status") == wanted]
        jobs.sort(key=lambda job: (-int(job.get("createdAt") or 0), job["jobId"]))
        limit = 100 if request.get("filters") else 1000
        size = min(int(request.get("maxResults") or limit), limit)
        start = int(request.get("nextToken") or 0)
        parsed["jobSummaryList"] = jobs[start : start + size]
        parsed.pop("nextToken", None)
        if start + size < len(jobs):
            parsed["nextToken"] = str(start + size)

    def _rewrite(self, job: dict[str, Any]) -> dict[str, Any] | None:
        if job["jobId"] in self.vanished:
            return None
        script = self.scripts.get(job["jobId"])
        if script is None:
            return job
        job = {**job, "status": script.status}
        for key in ("startedAt", "stoppedAt", "statusReason"):
            job.pop(key, None)
        container = dict(job.get("container") or {})
        container.pop("exitCode", None)
        container.pop("logStreamName", None)
        if script.reason:
            job["statusReason"] = script.reason
        if script.started:
            job["startedAt"] = script.started
        if script.stopped:
            job["stoppedAt"] = script.stopped
        if script.exit_code is not None:
            container["exitCode"] = script.exit_code
        if script.log_stream:
            container["logStreamName"] = script.log_stream
        job["container"] = container
        return job


def _crash(operation: str) -> Callable[[], Any]:
    def crash() -> Any:
        raise SimulatedCrash(operation)

    return crash
