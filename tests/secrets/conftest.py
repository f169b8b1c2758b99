"""Secrets fixtures: a manual environment with an execution role, a fault layer for Secrets
Manager at the boto3 boundary, and a look at what the emulator holds."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from batchforge.client import BatchforgeClient
from batchforge.launch import secrets as run_copies
from batchforge.local_aws import LocalAws
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.awsrules import aws_error
from tests.batchjobs import BatchJobs
from tests.factories import keys_credentials
from tests.runs.conftest import (  # noqa: F401 - fixtures
    env_id,
    jobs,
    launcher,
    manual_env,
)

EXECUTION_ROLE = "arn:aws:iam::123456789012:role/bf-test-execution"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Pipeline-secret tests count exactly the copies of pipeline secrets: the run's trace
    token (which would be one more copy, see tests/secrets/test_run_token.py) is off here."""
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, trace_token_delivery="off"
    )


@dataclass
class SecretsFaults:
    """Counts Secrets Manager calls and answers scripted errors instead of the emulator."""

    calls: Counter[str] = field(default_factory=Counter)
    _faults: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [("before-call.secretsmanager.*", self._before)]

    def fail_call(self, operation: str, nth: int, code: str, message: str) -> None:
        """Answer the ``nth`` (1-based, counted from now) ``operation`` call with an error."""
        with self._lock:
            at = self.calls[operation] + nth
            self._faults.setdefault(operation, []).append((at, code, message))

    def _before(self, model: Any, **_: Any) -> Any:
        with self._lock:
            self.calls[model.name] += 1
            for fault in self._faults.get(model.name, []):
                if fault[0] == self.calls[model.name]:
                    return aws_error(fault[1], fault[2])
        return None


@pytest.fixture
def sm_faults(app_ctx: AppContext) -> SecretsFaults:
    layer = SecretsFaults()
    app_ctx.aws.event_hooks.extend(layer.hooks())
    return layer


@pytest.fixture
def secret_env(api: BatchforgeClient, local_aws: LocalAws, jobs: BatchJobs) -> str:  # noqa: F811
    """A manual AVAILABLE environment with an execution role (secrets need one)."""
    credentials_id = api.create_credentials(keys_credentials("aws-secrets"))
    return manual_env(api, local_aws, credentials_id, executionRole=EXECUTION_ROLE)


@pytest.fixture
def launch_with(api: BatchforgeClient, secret_env: str) -> Callable[..., str]:
    return launcher(api, secret_env)


def copies_in_aws(local_aws: LocalAws, run_id: str | None = None) -> dict[str, str]:
    """Name → value of the per-run secret copies in the emulator (of one run, if given)."""
    client = local_aws.boto_client("secretsmanager")
    found: dict[str, str] = {}
    for page in client.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": [run_copies.PREFIX]}]
    ):
        for item in page["SecretList"]:
            name = item["Name"]
            if run_id is None or run_copies.run_id_of(name) == run_id:
                found[name] = client.get_secret_value(SecretId=name)["SecretString"]
    return found
