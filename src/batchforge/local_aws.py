"""The embedded AWS emulator: moto in server mode, over HTTP on 127.0.0.1.

batchforge talks to it exactly as to AWS (boto3 with an ``endpoint_url``).  It is configured as
ARCHITECTURE.md describes: Batch in "simple mode" (no Docker), AWS managed
policies loaded, and seeded with a work-dir bucket and a demo IAM user whose access keys the
demo stores as credentials.  With execution on, head jobs run their command through the
Nextflow stand-in (:mod:`batchforge.emulator`); other jobs succeed at once.  Known gaps of the
emulator are listed in the README.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from batchforge.errors import ConfigurationError

ACCOUNT_ID = "123456789012"
WORK_BUCKET = "batchforge-local-work"
DEMO_USER = "batchforge-demo"
# The emulator accepts these as "the server's own" credentials (its default identity).
EMULATOR_KEYS = ("testing", "testing")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DemoUser:
    user_name: str
    arn: str
    access_key: str
    secret_key: str


class LocalAws:
    """A running emulator process.  Use :func:`start`; stop it with :meth:`stop`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: IO[bytes] | None):
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = log
        self._http = httpx.Client(base_url=self.url, timeout=30)

    # --- control API of the emulator (never the AWS API: that goes through boto3) --------

    def configure(self) -> None:
        """Batch without Docker: a submitted job is SUCCEEDED at once."""
        self._http.post(
            "/moto-api/config", json={"batch": {"use_docker": False}}
        ).raise_for_status()

    def reset(self) -> None:
        """Forget every resource, then configure and seed again (a fresh account).  Head-job
        execution is off afterwards and the stand-in's call log is empty."""
        self._http.post("/batchforge-emulator/reset").raise_for_status()
        self._http.post("/moto-api/reset").raise_for_status()
        self.set_auth(enabled=False)
        self.configure()
        self.seed()

    def set_execution(self, enabled: bool) -> None:
        """Turn head-job execution on or off (see :mod:`batchforge.emulator.executor`): with it
        on, a job tagged ``batchforge:run-id`` runs its command through the Nextflow stand-in."""
        self._http.post(
            "/batchforge-emulator/execution", json={"enabled": enabled}
        ).raise_for_status()

    def standin_calls(self) -> list[dict[str, Any]]:
        """Every AWS call the Nextflow stand-in made since the last reset, in order: each
        ``{"principal", "service", "operation", "params", "region", "denied"}``."""
        answer = self._http.get("/batchforge-emulator/standin-calls")
        answer.raise_for_status()
        return list(answer.json()["calls"])

    def info(self) -> dict[str, Any]:
        """The emulator's own state: ``execution``, ``running`` jobs, its bounds."""
        answer = self._http.get("/batchforge-emulator/info")
        answer.raise_for_status()
        return dict(answer.json())

    def set_auth(self, enabled: bool) -> None:
        """Turn the emulator's access-key checking and IAM enforcement on or off.

        With it on, only keys of IAM users created in the emulator are accepted (others get
        InvalidClientTokenId).  Its IAM enforcement is partial (see the README), so the
        product never relies on it; tests use it to see AWS's authentication errors.
        """
        count = b"0" if enabled else b"inf"
        self._http.post("/moto-api/reset-auth", content=count).raise_for_status()

    def seed(self) -> None:
        """Create the work-dir bucket (in the default region), and give the default VPC's
        default security group AWS's default inbound rule (all traffic from the group itself;
        https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html), which
        moto leaves out."""
        ec2 = self.boto_client("ec2")
        found = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["default"]}]
        )
        for group in found["SecurityGroups"]:
            if not group.get("IpPermissions"):
                ec2.authorize_security_group_ingress(
                    GroupId=group["GroupId"],
                    IpPermissions=[
                        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group["GroupId"]}]}
                    ],
                )
        # The bucket last: its presence tells a waiting caller that seeding is done.
        s3 = self.boto_client("s3")
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=WORK_BUCKET)

    def create_demo_user(
        self, policy_document: str | None = None, user_name: str = DEMO_USER
    ) -> DemoUser:
        return create_demo_user(self.url, policy_document, user_name)

    def boto_client(self, service: str, region: str = "us-east-1") -> Any:
        return emulator_client(self.url, service, region)

    def ready(self, timeout: float = 30.0) -> LocalAws:
        """Wait until the emulator answers, then configure and seed it; stops it and raises
        :class:`ConfigurationError` when it does not come up."""
        if not _wait_ready(self.process, self.url, timeout):
            self.stop()
            raise ConfigurationError(
                f"The local AWS emulator did not start on 127.0.0.1:{self.port}.",
                hint="Is the port free? Choose another with --port / BATCHFORGE_LOCAL_AWS_PORT.",
            )
        self.configure()
        self.seed()
        return self

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self._http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> LocalAws:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def emulator_client(url: str, service: str, region: str = "us-east-1") -> Any:
    """A plain boto3 client on the emulator at ``url`` with its default identity.

    For setting the emulator up (seeding, demo users), never for product calls: those go
    through :mod:`batchforge.aws`.
    """
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=EMULATOR_KEYS[0],
        aws_secret_access_key=EMULATOR_KEYS[1],
    )


def create_demo_user(
    url: str, policy_document: str | None = None, user_name: str = DEMO_USER
) -> DemoUser:
    """An IAM user with a new access key (and optionally an inline policy) in the emulator."""
    iam = emulator_client(url, "iam")
    try:
        user = iam.create_user(UserName=user_name)["User"]
    except iam.exceptions.EntityAlreadyExistsException:
        user = iam.get_user(UserName=user_name)["User"]
    if policy_document:
        iam.put_user_policy(
            UserName=user_name, PolicyName="batchforge", PolicyDocument=policy_document
        )
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return DemoUser(user_name, user["Arn"], key["AccessKeyId"], key["SecretAccessKey"])


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            httpx.get(f"{url}/moto-api/config", timeout=1.0)
            return True
        except httpx.HTTPError:
            time.sleep(0.05)
    return False


STANDIN_NOTICE = (
    "Head jobs run their real command under bash through a Nextflow stand-in, not Nextflow "
    "(no containers, no pipeline code)"
)


def spawn(port: int = 0, log_file: Path | None = None, execution: bool = False) -> LocalAws:
    """Start the emulator process on 127.0.0.1 without waiting for it (``port`` 0 picks a
    free one).  Call :meth:`LocalAws.ready` before using it; meanwhile the caller can do its
    own start-up work (the emulator takes a second or two to boot).

    The process is :mod:`batchforge.emulator.server`: moto's server with batchforge's
    executor; ``execution`` turns head-job execution on from the start (the server and the
    demo do; tests turn it on per test with :meth:`LocalAws.set_execution`).  The process
    ends with the thread that spawned it, even when that thread's process is killed."""
    chosen = port or free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
    log: IO[bytes] | None = open(log_file, "ab") if log_file else None  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "batchforge.emulator.server",
            "-H",
            "127.0.0.1",
            "-p",
            str(chosen),
            "--execution",
            "on" if execution else "off",
        ],
        env=env,
        stdout=log or subprocess.DEVNULL,
        stderr=log or subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    return LocalAws(process, chosen, log)


def _die_with_parent() -> None:
    """In the emulator's process before it runs: the kernel sends it SIGTERM when the thread
    that started it ends, so a ``kill -9`` of the server leaves no emulator behind (Linux's
    ``PR_SET_PDEATHSIG``; it survives ``execve``).  A clean stop still goes through
    :meth:`LocalAws.stop`."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def start(
    port: int = 0, log_file: Path | None = None, timeout: float = 30.0, execution: bool = False
) -> LocalAws:
    """Start the emulator on 127.0.0.1 (``port`` 0 picks a free one), configured and seeded."""
    return spawn(port, log_file, execution).ready(timeout)
