"""Executing Batch jobs in the emulator: moto's "simple" Batch backend, taught to run head jobs.

moto 5.2's ``BatchSimpleBackend._mark_job_as_finished`` marks every submitted job SUCCEEDED at
once.  :func:`install` replaces it (in the emulator process only) so that, while execution is on:

- a job tagged ``batchforge:run-id`` (a batchforge head job) goes RUNNABLE -> STARTING -> RUNNING
  and really runs its container command under ``bash`` through the launcher image's ENTRYPOINT
  semantics (:mod:`batchforge.emulator.container`), in a temporary directory, with the
  ``nextflow`` stand-in first on the PATH; its output goes to CloudWatch Logs (the definition's
  ``awslogs-group`` or ``/aws/batch/job``, stream ``<definition>/default/<job id>``); it ends
  SUCCEEDED (exit 0) or FAILED with its exit code, statusReason "Essential container in task
  exited";
- any other job (a task the stand-in submitted) stays RUNNING for its environment's
  ``BATCHFORGE_STANDIN_TASK_SECONDS`` (or until terminated), then SUCCEEDED with exit 0;
- TerminateJob (and CancelJob before the job starts) kills the job's whole process group;
- a job over ECS's 8,192-character overrides limit FAILS before it starts, as on AWS;
- bounds: at most ``max_concurrent`` containers at once (others wait RUNNABLE), and none runs
  longer than ``max_seconds`` (or its own ``attemptDurationSeconds``).

With execution off, jobs behave as in moto's simple mode (SUCCEEDED at once).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from batchforge.emulator.container import (
    ContainerStartError,
    JobSpec,
    check_overrides,
    container_environment,
    entrypoint_script,
    job_spec,
)
from batchforge.emulator.control import EmulatorState

HEAD_TAG = "batchforge:run-id"
TASK_SECONDS_ENV = "BATCHFORGE_STANDIN_TASK_SECONDS"
EXIT_REASON = "Essential container in task exited"
TIMEOUT_REASON = "Job attempt duration exceeded timeout"
KILL_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1
LOG_FLUSH_SECONDS = 0.3


def standin_bin_dir() -> Path:
    """A directory holding only the ``nextflow`` stand-in wrapper (run with this interpreter)."""
    import sys

    directory = Path(tempfile.mkdtemp(prefix="batchforge-standin-bin-"))
    wrapper = directory / "nextflow"
    wrapper.write_text(
        "#!/bin/bash\n"
        "# batchforge nextflow stand-in -- not Nextflow\n"
        f'exec {sys.executable} -m batchforge.emulator.standin "$@"\n'
    )
    wrapper.chmod(0o755)
    return directory


class Executor:
    """Runs jobs handed over by the patched simple backend, each in a thread of its own."""

    def __init__(
        self,
        state: EmulatorState,
        endpoint: str,
        max_concurrent: int = 4,
        max_seconds: float = 600.0,
    ) -> None:
        self.state = state
        self.endpoint = endpoint
        self.max_seconds = max_seconds
        self.slots = threading.BoundedSemaphore(max_concurrent)
        self.bin_dir = standin_bin_dir()
        self._lock = threading.Lock()
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._jobs: dict[str, Any] = {}
        self._generation = 0
        state.on_reset.append(self.kill_all)

    # --- bookkeeping ---------------------------------------------------------------------

    def running(self) -> int:
        with self._lock:
            return len(self._jobs)

    def kill_all(self) -> None:
        """Stop every job (an emulator reset forgets them)."""
        with self._lock:
            self._generation += 1
            jobs = list(self._jobs.values())
        for job in jobs:
            job.terminate("The emulator was reset")

    def kill_now(self) -> None:
        """Kill every running container's process group at once (the emulator stops)."""
        with self._lock:
            processes = list(self._running.values())
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    # --- the moto hook ---------------------------------------------------------------------

    def accept(self, job: Any) -> None:
        """Take a freshly submitted job: RUNNABLE now, run in a thread."""
        job._transitions = []  # no automatic progression on describe: we set every state
        job.status = "RUNNABLE"
        with self._lock:
            self._jobs[job.job_id] = job
        threading.Thread(target=self._run, args=(job,), daemon=True, name=job.job_id).start()

    def _run(self, job: Any) -> None:
        try:
            spec = job_spec(job)
            if not self._wait_for_slot(job):
                self._finish(job, None, job.job_stopped_reason or "Job cancelled")
                return
            try:
                self._start(job, spec)
            finally:
                self.slots.release()
        except Exception as error:  # never leave a job hanging in RUNNING
            self._finish(job, None, f"batchforge emulator error: {type(error).__name__}: {error}")
        finally:
            with self._lock:
                self._jobs.pop(job.job_id, None)

    def _wait_for_slot(self, job: Any) -> bool:
        while not self.slots.acquire(timeout=POLL_SECONDS):
            if job.stop:
                return False
        if job.stop:
            self.slots.release()
            return False
        return True

    def _start(self, job: Any, spec: JobSpec) -> None:
        job.status = "STARTING"
        is_head = HEAD_TAG in spec.tags
        try:
            check_overrides(spec.overrides)
            if is_head:
                self._prepare_log(job, spec)
        except ContainerStartError as error:
            self._finish(job, None, str(error))
            return
        job.job_started_at = datetime.datetime.now()
        job.log_stream_name = spec.log_stream
        job._start_attempt()
        job.status = "RUNNING"
        if is_head:
            self._run_container(job, spec)
        else:
            self._hold_task(job, spec)

    # --- task jobs: held RUNNING ----------------------------------------------------------

    def _hold_task(self, job: Any, spec: JobSpec) -> None:
        try:
            seconds = float(spec.environment.get(TASK_SECONDS_ENV, "0") or 0)
        except ValueError:
            seconds = 0.0
        deadline = time.monotonic() + min(max(seconds, 0.0), self.max_seconds)
        while time.monotonic() < deadline and not job.stop:
            time.sleep(POLL_SECONDS)
        if job.stop:
            self._finish(job, 137, job.job_stopped_reason)
        else:
            self._finish(job, 0, EXIT_REASON)

    # --- head jobs: executed --------------------------------------------------------------

    def _prepare_log(self, job: Any, spec: JobSpec) -> None:
        logs = job._log_backend
        if spec.log_group not in logs.groups:
            if spec.log_group != "/aws/batch/job" and not spec.log_create_group:
                raise ContainerStartError(
                    "ResourceInitializationError: failed to validate logger args: "
                    f"The specified log group does not exist: {spec.log_group}"
                )
            logs.ensure_log_group(spec.log_group)
        logs.ensure_log_stream(spec.log_group, spec.log_stream)

    def _run_container(self, job: Any, spec: JobSpec) -> None:
        workdir = Path(tempfile.mkdtemp(prefix=f"batchforge-job-{spec.job_id[:8]}-"))
        base = {
            "PATH": f"{self.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir),
            "NXF_HOME": str(workdir / ".nextflow"),
            "LANG": "C.UTF-8",
        }
        try:
            env = container_environment(spec, self.endpoint, base)
        except ContainerStartError as error:
            self._finish(job, None, str(error))
            return
        limit = min(self.max_seconds, float(spec.timeout_seconds or self.max_seconds))
        process = subprocess.Popen(
            ["bash", "-c", entrypoint_script(spec.command)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with self._lock:
            self._running[spec.job_id] = process
        shipper = LogShipper(job._log_backend, spec.log_group, spec.log_stream)
        reader = threading.Thread(target=shipper.read, args=(process,), daemon=True)
        reader.start()
        reason = EXIT_REASON
        deadline = time.monotonic() + limit
        while process.poll() is None:
            if job.stop or time.monotonic() > deadline:
                if not job.stop:
                    job.terminate(TIMEOUT_REASON)
                reason = job.job_stopped_reason or TIMEOUT_REASON
                kill_group(process)
                break
            time.sleep(POLL_SECONDS)
        code = process.wait()
        reader.join(timeout=10)
        shipper.flush()
        with self._lock:
            self._running.pop(spec.job_id, None)
        shutil.rmtree(workdir, ignore_errors=True)
        self._finish(job, code if code >= 0 else 128 - code, reason)

    # --- the end --------------------------------------------------------------------------

    def _finish(self, job: Any, exit_code: int | None, reason: str | None) -> None:
        job.exit_code = exit_code
        job.job_stopped_reason = reason
        success = exit_code == 0 and not job.stop
        job._mark_stopped(success=success)
        if job.latest_attempt is not None:
            container = job.latest_attempt.setdefault("container", {})
            if exit_code is not None:
                container["exitCode"] = exit_code
            container["reason"] = reason
            job.latest_attempt["statusReason"] = reason


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, SIGKILL after a grace period (as ``docker stop``)."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class LogShipper:
    """Lines of a process's output into a CloudWatch Logs stream of moto's logs backend."""

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self.logs = logs
        self.group = group
        self.stream = stream
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self._pending.append(
                    {"timestamp": int(time.time() * 1000), "message": line[:262_000]}
                )
            if time.monotonic() - self._last_flush > LOG_FLUSH_SECONDS:
                self.flush()

    def flush(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
            self._last_flush = time.monotonic()
        if events:
            self.logs.put_log_events(self.group, self.stream, events)


def install(executor: Executor) -> None:
    """Route moto's simple Batch backend's job completion through ``executor`` while the
    state says execution is on (this process only: the emulator, never the product)."""
    from moto.batch.models import Job
    from moto.batch_simple.models import BatchSimpleBackend

    original = BatchSimpleBackend._mark_job_as_finished

    def mark(self: Any, include_start_attempt: bool, job: Any) -> None:
        if not executor.state.execution or not include_start_attempt or job._child_jobs:
            original(self, include_start_attempt, job)
            return
        self.backend._jobs[job.job_id] = job
        executor.accept(job)

    BatchSimpleBackend._mark_job_as_finished = mark  # type: ignore[method-assign]

    details = Job._container_details

    def container_details(self: Any) -> dict[str, Any]:
        answer = details(self)
        if self.exit_code is not None:
            answer["exitCode"] = self.exit_code
        if self.job_stopped and self.job_stopped_reason:
            answer["reason"] = self.job_stopped_reason
        return answer

    Job._container_details = container_details  # type: ignore[method-assign]
