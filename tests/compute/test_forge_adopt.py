"""Issue #16 item 6: a resource an earlier attempt made but did not record is found by name (or
Name tag) and adopted, for every resource kind Forge creates -- never created twice.

Each test lets AWS create one resource of a kind and "kills" the forge right after (an
after-call hook raises, so the journal keeps that entry CREATING with no id: the process died
between AWS's answer and the journal's write).  Another process resumes once the lease has
expired.  Then, counted in the emulator, exactly as many resources of the kind exist as the
journal names, and the create call was made once per resource: the resume looked first.

FSx's idempotency token is honoured only within its window (tests/idempotency.py); here the
resume comes after it, as after a crash and a restart it may.  Instance profiles are the one
kind not looked up -- the seed grants no ``iam:GetInstanceProfile`` -- so their create is
repeated and its ``EntityAlreadyExists`` adopted: IAM names are unique and carry no window.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.local_aws import LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules, SimulatedCrash
from tests.compute.conftest import forged_names, nothing_left
from tests.idempotency import TokenWindow


class CrashAfter:
    """Counts the calls of ``service:operation`` and crashes right after the first succeeds."""

    def __init__(self, service: str, operation: str):
        self.service, self.operation = service, operation
        self.calls: Counter[str] = Counter()
        self.armed = True
        self.crashed = False
        self._lock = threading.Lock()

    def hooks(self) -> list[tuple[str, Any]]:
        event = f"{self.service}.{self.operation}"
        return [(f"before-call.{event}", self._before), (f"after-call.{event}", self._after)]

    def _before(self, **_: Any) -> None:
        with self._lock:
            self.calls[self.operation] += 1

    def _after(self, http_response: Any, **_: Any) -> None:
        with self._lock:
            crash = self.armed and http_response.status_code < 300
            if crash:
                self.armed, self.crashed = False, True
        if crash:
            raise SimulatedCrash(f"{self.service}:{self.operation} answered; journal not written")


def _count_in_aws(aws: LocalAws, ce_id: str, kind: str) -> int:
    if kind == "efs-mount-target":
        efs = aws.boto_client("efs")
        systems = efs.describe_file_systems(CreationToken=f"TowerForge-{ce_id}-efs")
        return sum(
            len(efs.describe_mount_targets(FileSystemId=fs["FileSystemId"])["MountTargets"])
            for fs in systems["FileSystems"]
        )
    names = forged_names(aws, ce_id)
    return len(names[FORGED_NAMES[kind]])


FORGED_NAMES = {
    "iam-role": "roles",
    "iam-instance-profile": "instance_profiles",
    "launch-template": "launch_templates",
    "efs-file-system": "efs",
    "fsx-file-system": "fsx",
    "batch-compute-environment": "compute_environments",
    "batch-job-queue": "job_queues",
}


def _entries(app_ctx: AppContext, ce_id: str, kind: str) -> list[models.ForgeResource]:
    with app_ctx.db.transaction() as session:
        rows = session.scalars(
            select(models.ForgeResource).where(
                models.ForgeResource.compute_env_id == ce_id, models.ForgeResource.kind == kind
            )
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


@pytest.mark.parametrize(
    ("kind", "service", "operation"),
    [
        ("iam-role", "iam", "CreateRole"),
        ("iam-instance-profile", "iam", "CreateInstanceProfile"),
        ("launch-template", "ec2", "CreateLaunchTemplate"),
        ("efs-file-system", "efs", "CreateFileSystem"),
        ("efs-mount-target", "efs", "CreateMountTarget"),
        ("fsx-file-system", "fsx", "CreateFileSystem"),
        ("batch-compute-environment", "batch", "CreateComputeEnvironment"),
        ("batch-job-queue", "batch", "CreateJobQueue"),
    ],
)
def test_a_resource_made_but_not_recorded_is_adopted_not_duplicated(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    rules: AwsRules,
    forge_body,
    kind: str,
    service: str,
    operation: str,
) -> None:
    crash = CrashAfter(service, operation)
    app_ctx.aws.event_hooks.extend([*TokenWindow(0).hooks(), *crash.hooks()])
    body = forge_body(efsCreate=True, efsMount="/mnt/efs", fsxSize=1200, fsxMount="/fsx")
    ce_id = api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]
    with contextlib.suppress(SimulatedCrash):
        forge_runner.run_pending(app_ctx, owner="process-1")
    assert crash.crashed
    unrecorded = [e for e in _entries(app_ctx, ce_id, kind) if e.physical_id is None]
    assert unrecorded and all(e.status == "CREATING" for e in unrecorded)
    assert _count_in_aws(aws, ce_id, kind) >= 1  # AWS made it; the journal does not know

    with app_ctx.db.transaction() as session:  # the dead process's lease expires
        session.execute(
            update(models.ComputeEnv).values(lease_until=utcnow() - timedelta(seconds=1))
        )
    assert forge_runner.run_pending(app_ctx, owner="process-2") == 1
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert env["status"] == "AVAILABLE", env
    journal = _entries(app_ctx, ce_id, kind)
    assert journal and all(e.status == "CREATED" and e.physical_id for e in journal)
    assert _count_in_aws(aws, ce_id, kind) == len(journal), forged_names(aws, ce_id)
    repeated = 1 if kind == "iam-instance-profile" else 0  # see the module docstring
    assert crash.calls[operation] == len(journal) + repeated

    api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(app_ctx)
    assert nothing_left(aws, ce_id), forged_names(aws, ce_id)


def test_the_layer_honours_the_fsx_token_only_within_its_window(
    app_ctx: AppContext, aws: LocalAws, network
) -> None:
    """The layer itself: within the window a repeated CreateFileSystem returns the same file
    system (as AWS); after it, the emulator's behaviour (a new one)."""
    from batchforge.aws.session import AwsAuth

    window = TokenWindow(3600)
    app_ctx.aws.event_hooks.extend(window.hooks())
    fsx = app_ctx.aws.session(AwsAuth()).client("fsx")
    request = {
        "ClientRequestToken": "same-token",
        "FileSystemType": "LUSTRE",
        "StorageCapacity": 1200,
        "SubnetIds": [network.subnets[0]],
    }
    first = fsx.create_file_system(**request)["FileSystem"]["FileSystemId"]
    assert fsx.create_file_system(**request)["FileSystem"]["FileSystemId"] == first
    window.window = 0
    assert fsx.create_file_system(**request)["FileSystem"]["FileSystemId"] != first
