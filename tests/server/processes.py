"""Real ``batchforge`` processes for the process-level tests and the restart benchmark.

- :class:`ServerProcess`: ``batchforge server`` started with its own environment (local mode
  with its embedded emulator, or ``aws`` mode on a separately started emulator), its output
  in a file; stopped by a signal of the test's choice (SIGTERM, SIGINT, SIGKILL);
- :func:`emulator_process`: ``batchforge local-aws`` on a free port, in its own process, so it
  survives a server's ``kill -9``;
- :func:`wait_for`: poll a condition with a generous deadline (no test depends on speed).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from batchforge.client import BatchforgeClient
from batchforge.local_aws import LocalAws, free_port

CLI = str(Path(sys.executable).parent / "batchforge")
START_TIMEOUT = 180.0  # a busy 2-core machine: start-up can take tens of seconds
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 120.0) -> T:
    """``probe()`` once it returns something other than None/False; AssertionError after
    ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def server_env(
    data_dir: Path,
    database_url: str,
    port: int,
    emulator_url: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of a server on ``database_url``: local mode (its own emulator) unless
    ``emulator_url`` is given (``aws`` mode on that emulator)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BATCHFORGE_") or key == "BATCHFORGE_TEST_DATABASE_URL"
    }
    env.update(
        BATCHFORGE_DATA_DIR=str(data_dir),
        BATCHFORGE_DATABASE_URL=database_url,
        BATCHFORGE_HOST="127.0.0.1",
        BATCHFORGE_PORT=str(port),
    )
    if emulator_url:
        env.update(
            BATCHFORGE_AWS_MODE="aws",
            BATCHFORGE_AWS_ENDPOINT_URL=emulator_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
    else:
        env["BATCHFORGE_AWS_MODE"] = "local"
    env.update(extra)
    return env


class ServerProcess:
    """One ``batchforge server`` process; ``output`` is its stdout+stderr file."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        emulator_url: str | None = None,
        stdout: int | IO[Any] | None = None,
        port: int | None = None,
        **extra: str,
    ):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.output = data_dir.parent / f"server-{self.port}.log"
        if self.output.exists():  # a restart on the same port: keep the earlier output
            self.output.rename(self.output.with_name(f"{self.output.stem}-{time.time_ns()}.log"))
        env = server_env(data_dir, database_url, self.port, emulator_url, **extra)
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [CLI, "server"],
                env=env,
                stdout=stdout if stdout is not None else out,
                stderr=subprocess.STDOUT if stdout is None else out,
                stdin=subprocess.DEVNULL,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/service-info", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited {self.process.returncode}:\n{self.log()}")
            return self.answers()

        wait_for(f"the server on {self.url}", ready, timeout)
        return self

    def wait_exit(self, timeout: float = 120.0) -> int:
        return self.process.wait(timeout=timeout)

    def client(self) -> BatchforgeClient:
        """The API client with the admin token (the caller closes it)."""
        return BatchforgeClient(
            self.url, self.token(), http=httpx.Client(base_url=self.url, timeout=120)
        )

    def token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def kill9(self) -> None:
        """SIGKILL, and reap it: nothing of this process runs any more."""
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        """SIGINT (as Ctrl-C), SIGKILL if it does not end in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill9()


@contextmanager
def emulator_process(log_file: Path) -> Iterator[LocalAws]:
    """``batchforge local-aws`` on a free port in its own process; a :class:`LocalAws` handle
    on it (for its control API and boto3 clients).  Stopped with SIGTERM afterwards."""
    port = free_port()
    with log_file.open("wb") as out:
        process = subprocess.Popen(
            [CLI, "local-aws", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    handle = LocalAws(process, port, None)
    try:
        wait_for(
            "the emulator's work bucket (seeded)",
            lambda: _seeded(handle, process, log_file),
            START_TIMEOUT,
        )
        yield handle
    finally:
        handle.stop()


def _seeded(handle: LocalAws, process: subprocess.Popen[bytes], log_file: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError("emulator exited:\n" + log_file.read_text(errors="replace"))
    return b"Work-dir bucket" in log_file.read_bytes()
