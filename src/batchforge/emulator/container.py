"""What ECS does before a Batch job's container starts, reproduced for the executing emulator.

- the container-overrides size limit (ECS RunTask: "Container Overrides length must be at most
  8192"; SubmitJob accepts larger overrides, so the job fails after submission: Netflix/metaflow
  issue #977; https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html,
  ``overrides``: "up to 8192 characters");
- the container's environment: the job definition's ``environment``, overridden by the job's
  ``containerOverrides.environment``; ``secrets`` resolved from Secrets Manager; the job role's
  credentials (``jobRoleArn`` assumed through STS); ``AWS_BATCH_JOB_ID`` and friends;
- the launcher image's ENTRYPOINT: ``nextflow/nextflow:24.10.5``'s ``docker/entry.sh`` wraps
  every argument in single quotes *without escaping* (``'$x' ``, one after the other) and runs
  the result with ``bash -c``.  A command argument that contains a single quote therefore
  breaks out of its quotes (e.g. ``bash -c "echo 'a b'"`` ends in "unexpected EOF", exit 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

OVERRIDES_LIMIT = 8192
OVERRIDES_REASON = "Container Overrides length must be at most 8192"


class ContainerStartError(Exception):
    """ECS could not start the container; the message is the job's statusReason."""


def overrides_length(overrides: dict[str, Any] | None) -> int:
    """The length ECS measures: the overrides as compact JSON (our approximation of the
    serialised ``containerOverrides`` that Batch hands to ECS RunTask)."""
    if not overrides:
        return 0
    return len(json.dumps(overrides, separators=(",", ":")))


def check_overrides(overrides: dict[str, Any] | None) -> None:
    if overrides_length(overrides) > OVERRIDES_LIMIT:
        raise ContainerStartError(OVERRIDES_REASON)


def entrypoint_script(command: list[str]) -> str:
    """The text ``entry.sh`` hands to ``bash -c``: each argument inside ``'...'`` followed by a
    space, with no escaping of quotes inside it (as in nextflow v24.10.5 docker/entry.sh)."""
    return "".join("'" + arg + "' " for arg in command)


def with_parameters(command: list[str], parameters: dict[str, str]) -> list[str]:
    """Batch's ``Ref::name`` substitution of job parameters in the command."""
    out = []
    for part in command:
        for name, value in parameters.items():
            part = part.replace(f"Ref::{name}", value)
        out.append(part)
    return out


@dataclass
class JobSpec:
    """What the executor needs of a moto Batch job, read once when it starts."""

    job_id: str
    job_name: str
    queue: str
    account: str
    region: str
    command: list[str]
    environment: dict[str, str]
    secrets: list[dict[str, str]]
    job_role_arn: str | None
    log_group: str
    log_create_group: bool
    log_stream: str
    timeout_seconds: int | None
    overrides: dict[str, Any]
    tags: dict[str, str]


def job_spec(job: Any) -> JobSpec:
    """Read a moto ``batch.models.Job`` (container type) into a :class:`JobSpec`."""
    props: dict[str, Any] = job.job_definition.container_properties or {}
    overrides: dict[str, Any] = job.container_overrides or {}
    env = {e["name"]: e.get("value", "") for e in props.get("environment", []) or []}
    env.update({e["name"]: e.get("value", "") for e in overrides.get("environment", []) or []})
    log_options = (props.get("logConfiguration") or {}).get("options") or {}
    command = overrides.get("command") or props.get("command") or []
    timeout = job.timeout or job.job_definition.timeout or {}
    backend = job.backend
    return JobSpec(
        job_id=job.job_id,
        job_name=job.job_name,
        queue=job.job_queue.name,
        account=backend.account_id,
        region=backend.region_name,
        command=with_parameters(list(command), dict(job.parameters or {})),
        environment=env,
        secrets=list(props.get("secrets") or []),
        job_role_arn=props.get("jobRoleArn"),
        log_group=log_options.get("awslogs-group") or "/aws/batch/job",
        log_create_group=str(log_options.get("awslogs-create-group", "")).lower() == "true",
        log_stream=job._stream_name,
        timeout_seconds=timeout.get("attemptDurationSeconds"),
        overrides=overrides,
        tags=backend.list_tags_for_resource(job.arn),
    )


def resolve_secrets(spec: JobSpec) -> dict[str, str]:
    """``secrets[]`` of the job definition, read from the emulator's Secrets Manager backend
    (or SSM parameters, for a ``valueFrom`` that is a parameter ARN or name)."""
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.ssm.models import ssm_backends

    values: dict[str, str] = {}
    for item in spec.secrets:
        name, source = item.get("name", ""), item.get("valueFrom", "")
        try:
            if ":ssm:" in source or source.startswith("/"):
                param_name = source.split(":parameter", 1)[-1] if ":ssm:" in source else source
                param = ssm_backends[spec.account][spec.region].get_parameter(param_name)
                values[name] = param.value
            else:
                answer = secretsmanager_backends[spec.account][spec.region].get_secret_value(
                    secret_id=source, version_id=None, version_stage=None
                )
                values[name] = answer.get("SecretString") or ""
        except Exception as error:  # moto raises its own exception types
            raise ContainerStartError(
                "ResourceInitializationError: unable to pull secrets or registry auth: "
                f"retrieving secret from {source}: {type(error).__name__}"
            ) from None
    return values


def role_credentials(spec: JobSpec) -> dict[str, str]:
    """Temporary credentials of the job role, as ECS hands them to the container."""
    if not spec.job_role_arn:
        return {}
    from moto.sts.models import sts_backends

    role = sts_backends[spec.account]["aws"].assume_role(
        region_name=spec.region,
        role_session_name=spec.job_id[:64],
        role_arn=spec.job_role_arn,
        policy=None,
        duration=3600,
        external_id=None,
    )
    return {
        "AWS_ACCESS_KEY_ID": role.access_key_id,
        "AWS_SECRET_ACCESS_KEY": role.secret_access_key,
        "AWS_SESSION_TOKEN": role.session_token,
    }


def container_environment(spec: JobSpec, endpoint: str, base: dict[str, str]) -> dict[str, str]:
    """The process environment of the job's container (``base``: PATH, HOME, ...)."""
    env = dict(base)
    env.update(spec.environment)
    env.update(resolve_secrets(spec))
    env.update(role_credentials(spec))
    env.update(
        {
            "AWS_BATCH_JOB_ID": spec.job_id,
            "AWS_BATCH_JQ_NAME": spec.queue,
            "AWS_BATCH_JOB_ATTEMPT": "1",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_REGION": spec.region,
        }
    )
    if spec.job_role_arn:
        env["BATCHFORGE_STANDIN_PRINCIPAL"] = spec.job_role_arn
    return env
