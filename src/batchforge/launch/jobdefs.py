"""Head-job definitions, reused by content hash.

The definition's content (image, roles, default resources) is hashed; the hash is in its name
(``batchforge-nf-head-<hash>``) and in its ``parameters``.  :func:`ensure` looks it up with
DescribeJobDefinitions and registers it only when missing, so a thousand launches of one
configuration register one definition.  Found ARNs are cached per process.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from batchforge.aws.session import AwsSession

HASH_PARAMETER = "batchforge-hash"
NAME_PREFIX = "batchforge-nf-head-"


@dataclass(frozen=True)
class HeadJobDefinition:
    image: str
    job_role: str | None = None
    execution_role: str | None = None
    # (environment variable, Secrets Manager ARN) pairs, read by ECS with the execution role.
    # A definition with secrets belongs to one run (their names carry the run id).
    secrets: tuple[tuple[str, str], ...] = ()
    # CloudWatch Logs group of the head job (awslogs driver) when not Batch's default
    # /aws/batch/job, and the region it is in.
    log_group: str | None = None
    region: str | None = None
    # Host paths of the environment's file systems (EFS, FSx): mounted at the same path.
    volumes: tuple[str, ...] = ()

    def content(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "image": self.image,
            "command": ["bash", "-c", "echo 'batchforge head job: command set at submission'"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "1024"},
            ],
        }
        if self.job_role:
            props["jobRoleArn"] = self.job_role
        if self.execution_role:
            props["executionRoleArn"] = self.execution_role
        if self.secrets:
            props["secrets"] = [{"name": k, "valueFrom": arn} for k, arn in self.secrets]
        if self.log_group:
            options = {"awslogs-group": self.log_group}
            if self.region:
                options["awslogs-region"] = self.region
            props["logConfiguration"] = {"logDriver": "awslogs", "options": options}
        if self.volumes:
            names = [f"vol{i}" for i in range(len(self.volumes))]
            props["volumes"] = [
                {"name": name, "host": {"sourcePath": path}}
                for name, path in zip(names, self.volumes, strict=True)
            ]
            props["mountPoints"] = [
                {"sourceVolume": name, "containerPath": path, "readOnly": False}
                for name, path in zip(names, self.volumes, strict=True)
            ]
        return {"type": "container", "containerProperties": props}

    @property
    def digest(self) -> str:
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def name(self) -> str:
        return NAME_PREFIX + self.digest


_cache: dict[tuple[str | None, str, str | None, str], str] = {}
_lock = threading.Lock()
_key_locks: dict[tuple[str | None, str, str | None, str], threading.Lock] = {}


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def forget(aws: AwsSession, definition: HeadJobDefinition) -> None:
    """Drop a cached ARN (after AWS refused a submission: the definition may be gone)."""
    with _lock:
        _cache.pop(_key(aws, definition), None)


def _key(aws: AwsSession, definition: HeadJobDefinition) -> tuple[str | None, str, str | None, str]:
    return (aws.env.endpoint_url, aws.region, aws.auth.access_key, definition.digest)


def ensure(aws: AwsSession, definition: HeadJobDefinition) -> str:
    """The ARN of an ACTIVE definition with this content; registered only when none exists.

    Idempotent and safe to retry: a lost race registers one extra revision of the same
    content, never a different definition.
    """
    key = _key(aws, definition)
    with _lock:
        if key in _cache:
            return _cache[key]
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:  # concurrent launches of one configuration: one looks up, the others wait
        with _lock:
            if key in _cache:
                return _cache[key]
        arn = _find_or_register(aws, definition)
        with _lock:
            _cache[key] = arn
        return arn


def register_for_run(aws: AwsSession, definition: HeadJobDefinition) -> str:
    """Register a definition used by one run only (one carrying that run's secrets): one
    RegisterJobDefinition, nothing cached.  A retry registers another revision of the same
    content, which is harmless."""
    return _register(aws, definition)


def _register(aws: AwsSession, definition: HeadJobDefinition) -> str:
    return str(
        aws.client("batch").register_job_definition(
            jobDefinitionName=definition.name,
            parameters={HASH_PARAMETER: definition.digest},
            **definition.content(),
        )["jobDefinitionArn"]
    )


def _find_or_register(aws: AwsSession, definition: HeadJobDefinition) -> str:
    batch = aws.client("batch")
    found = batch.describe_job_definitions(jobDefinitionName=definition.name, status="ACTIVE")
    arns = [
        d["jobDefinitionArn"]
        for d in found.get("jobDefinitions", [])
        if (d.get("parameters") or {}).get(HASH_PARAMETER) == definition.digest
    ]
    if arns:
        return sorted(arns, key=lambda a: int(a.rsplit(":", 1)[-1]))[-1]
    return _register(aws, definition)


def forget_arn(arn: str) -> None:
    """Drop every cached entry that points at ``arn`` (it was deregistered): the next launch of
    that configuration in this process looks the definition up again, instead of submitting
    to an INACTIVE one."""
    with _lock:
        for key in [key for key, cached in _cache.items() if cached == arn]:
            del _cache[key]
