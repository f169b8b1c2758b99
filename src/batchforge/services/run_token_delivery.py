"""How a launched run's head job gets its trace token (``TOWER_ACCESS_TOKEN``).

The token (:mod:`batchforge.services.run_tokens`) lets the head job's Nextflow report the run
through the trace protocol: with it set, Nextflow 24.10.5 loads its nf-tower plugin
(``PluginsFacade``: ``tower.enabled`` or env ``TOWER_ACCESS_TOKEN``), whose observer is on
because ``TOWER_WORKFLOW_ID`` is set (``TowerFactory``), and which then reads the token from the
environment only (``TowerClient.getAccessToken``).

Delivery, chosen by the admin with ``BATCHFORGE_TRACE_TOKEN_DELIVERY`` (:data:`SETTING`):

- ``secret`` (default): a per-run Secrets Manager copy (``tower-batchforge-<runId>-run-token``)
  named in the run's own job definition ``secrets``; ECS reads it with the execution role when
  the container starts, so ``batch:DescribeJobs`` and ``DescribeJobDefinitions`` show only its
  ARN.  It needs an execution role and ``secretsmanager:CreateSecret`` (an optional section of
  the seed policy).  Without them the run reports no trace, and says so (:func:`refused`).
- ``environment``: the same, but without them the token is a plain variable of SubmitJob's
  container overrides — readable by anyone allowed ``batch:DescribeJobs`` until the run ends
  (the token dies with the run, plus a short grace).
- ``off``: no token, no trace.

A refused CreateSecret is remembered per credentials and region for :data:`REFUSAL_MEMORY`
seconds, so launches meanwhile skip the doomed call.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from batchforge.aws.session import AwsSession
from batchforge.errors import AwsAccessDenied
from batchforge.launch import secrets as run_copies
from batchforge.launch.headjob import TOKEN_ENV

SETTING = "BATCHFORGE_TRACE_TOKEN_DELIVERY"
SECRET = "secret"
ENVIRONMENT = "environment"
OFF = "off"
REFUSAL_MEMORY = 600.0
EXPOSURE = (
    "anyone allowed batch:DescribeJobs could read the token in the head job's environment "
    "until the run ends"
)

_refused: dict[tuple[str | None, str | None, str], float] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Plan:
    """``mode``: how the token goes (:data:`SECRET`, :data:`ENVIRONMENT`), or None for no
    token; ``note``: the line the run's messages and log get when it reports no trace."""

    mode: str | None
    note: str | None = None


NO_TOKEN = Plan(None)


def _without(reason: str) -> str:
    return (
        f"this run reports no tasks or progress: {reason}, so its trace token cannot reach "
        f"the head job as a secret.  {SETTING}=environment would pass it as a plain variable "
        f"instead ({EXPOSURE})."
    )


def plan(setting: str, execution_role: str | None) -> Plan:
    """What a launch does with the token, before any AWS call."""
    if setting == OFF:
        return NO_TOKEN
    if execution_role:
        return Plan(SECRET)
    if setting == ENVIRONMENT:
        return Plan(ENVIRONMENT)
    return Plan(
        None,
        _without("the compute environment has no execution role (ECS reads job secrets with it)"),
    )


def refused(setting: str) -> Plan:
    """The plan once Secrets Manager refused the token's copy (AccessDenied)."""
    if setting == ENVIRONMENT:
        return Plan(ENVIRONMENT)
    return Plan(
        None,
        _without(
            "the credentials may not call secretsmanager:CreateSecret (an optional part of "
            "the seed policy)"
        ),
    )


def _key(aws: AwsSession) -> tuple[str | None, str | None, str]:
    return (aws.env.endpoint_url, aws.auth.access_key, aws.region)


def recently_refused(aws: AwsSession) -> bool:
    """Whether these credentials were refused CreateSecret here in the last few minutes."""
    with _lock:
        at = _refused.get(_key(aws))
        if at is not None and time.monotonic() - at > REFUSAL_MEMORY:
            del _refused[_key(aws)]
            at = None
    return at is not None


def forget_refusals() -> None:
    with _lock:
        _refused.clear()


def create_secret(
    aws: AwsSession,
    run_id: str,
    token: str,
    kms_key_id: str | None,
    tag: bool,
) -> str | None:
    """The ARN of the token's copy, or None when Secrets Manager refused it (remembered)."""
    try:
        return run_copies.create(
            aws, run_id, run_copies.token_secret(run_id, token, TOKEN_ENV), kms_key_id, tag
        )
    except AwsAccessDenied:
        with _lock:
            _refused[_key(aws)] = time.monotonic()
        return None
