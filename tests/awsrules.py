"""A test layer that adds real-AWS rules the emulator lacks, at the boto3 boundary.

It is a set of botocore event hooks installed through ``AwsEnvironment.event_hooks`` (never a
patch of the product): ``before-call`` handlers may answer instead of the emulator (an AWS
error), ``after-call`` handlers may rewrite what the emulator answered.

Rules (ARCHITECTURE.md, "AWS facts"):
- Batch compute environments and job queues are CREATING / UPDATING / DELETING for a few
  describes after a create, a state change or a delete;
- a job queue must be DISABLED and settled before it is deleted; a compute environment must be
  DISABLED, settled and referenced by no queue ("found existing JobQueue relationship");
- at most 50 compute environments and 50 job queues per account and region;
- removing a role that is not in an instance profile is NoSuchEntity (the emulator answers
  HTTP 500);
- fault injection: the N-th call from now fails (an AWS error, or a simulated crash).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TRANSITIONS = 2  # describes that still show a transitional status


class SimulatedCrash(BaseException):
    """The process 'dies' here: no rollback or cleanup code runs."""


@dataclass
class FakeHttp:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)


def aws_error(code: str, message: str, status: int = 400) -> tuple[FakeHttp, dict[str, Any]]:
    return FakeHttp(status), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
    }


@dataclass
class _Item:
    status: str = "VALID"
    remaining: int = 0
    state: str = "ENABLED"
    snapshot: dict[str, Any] | None = None
    deleting: bool = False


class AwsRules:
    """Install with ``env.event_hooks.extend(rules.hooks())``."""

    def __init__(self, transitions: int = TRANSITIONS):
        self.transitions = transitions
        self._lock = threading.Lock()
        self.ces: dict[str, _Item] = {}
        self.jqs: dict[str, _Item] = {}
        self.jq_to_ce: dict[str, set[str]] = {}
        self.profile_roles: set[tuple[str, str]] = set()
        self.calls = 0
        self._fail_at: int | None = None
        self._failure: Callable[[str], Any] | None = None
        self.failed_call: str | None = None

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [("before-call.*.*", self._before), ("after-call.*.*", self._after)]

    # --- fault injection -----------------------------------------------------------------

    def fail_nth_call(self, n: int, crash: bool = False) -> None:
        """Make the n-th call from now (1-based) fail with an AWS error, or crash."""
        with self._lock:
            self.calls = 0
            self._fail_at = n
            self._failure = self._crash if crash else self._inject_error

    def disarm(self) -> None:
        with self._lock:
            self._fail_at = None

    @staticmethod
    def _inject_error(name: str) -> tuple[FakeHttp, dict[str, Any]]:
        return aws_error("InjectedFailure", f"fault injected on {name}")

    @staticmethod
    def _crash(name: str) -> None:
        raise SimulatedCrash(name)

    # --- hooks ---------------------------------------------------------------------------

    def _before(self, model: Any, params: Any, context: Any = None, **_: Any) -> Any:
        name = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.calls += 1
            if self._fail_at is not None and self.calls == self._fail_at:
                self._fail_at = None
                self.failed_call = name
                failure = self._failure
            else:
                failure = None
        if failure is not None:
            return failure(name)
        if model.service_model.service_name == "iam":
            return self._iam_rule(model.name, _form(params))
        if model.service_model.service_name == "batch":
            body = _body(params)
            if context is not None:
                context["batchforge_rules_body"] = body
            return self._batch_rule(model.name, body)
        return None

    def _iam_rule(self, operation: str, form: dict[str, str]) -> Any:
        pair = (form.get("InstanceProfileName", ""), form.get("RoleName", ""))
        with self._lock:
            if operation == "AddRoleToInstanceProfile":
                self.profile_roles.add(pair)
            elif operation == "RemoveRoleFromInstanceProfile":
                if pair not in self.profile_roles:
                    return aws_error(
                        "NoSuchEntity",
                        f"The role {pair[1]} is not in instance profile {pair[0]}.",
                        404,
                    )
                self.profile_roles.discard(pair)
        return None

    def _batch_rule(self, operation: str, body: dict[str, Any]) -> Any:
        with self._lock:
            if operation == "CreateComputeEnvironment" and self._live(self.ces) >= 50:
                return aws_error(
                    "ClientException",
                    "Maximum number of compute environments "
                    "(50) reached for this account and region",
                )
            if operation == "CreateJobQueue" and self._live(self.jqs) >= 50:
                return aws_error("ClientException", "Maximum number of job queues (50) reached")
            updated = {
                "UpdateJobQueue": (self.jqs, "jobQueue"),
                "UpdateComputeEnvironment": (self.ces, "computeEnvironment"),
            }
            if operation in updated:
                items, key = updated[operation]
                item = items.get(_short(body.get(key, "")))
                if item and item.deleting and item.remaining > 0:
                    # Still DELETING on AWS (the emulator already forgot it).
                    return aws_error("ClientException", "Cannot update: it is being DELETED")
            if operation == "DeleteJobQueue":
                item = self.jqs.get(_short(body.get("jobQueue", "")))
                if item and (item.state == "ENABLED" or item.remaining > 0):
                    return aws_error(
                        "ClientException",
                        "Job queue must be DISABLED and not UPDATING to be deleted",
                    )
            if operation == "DeleteComputeEnvironment":
                name = _short(body.get("computeEnvironment", ""))
                item = self.ces.get(name)
                if item and (item.state == "ENABLED" or item.remaining > 0):
                    return aws_error(
                        "ClientException",
                        "Cannot delete, compute environment is ENABLED or UPDATING",
                    )
                if any(
                    name in ces
                    for jq, ces in self.jq_to_ce.items()
                    if jq in self.jqs and self._exists(self.jqs[jq])
                ):
                    return aws_error(
                        "ClientException", "Cannot delete, found existing JobQueue relationship"
                    )
        return None

    @staticmethod
    def _exists(item: _Item) -> bool:
        """Still known to AWS: not deleted, or deleted but still DELETING."""
        return not item.deleting or item.remaining > 0

    @staticmethod
    def _live(items: dict[str, _Item]) -> int:
        return sum(1 for item in items.values() if not item.deleting)

    def _after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: Any, **_: Any
    ) -> None:
        if model.service_model.service_name != "batch" or http_response.status_code >= 300:
            return
        request = context.get("batchforge_rules_body") or {}
        with self._lock:
            self._track(model.name, parsed, request)

    def _track(self, operation: str, parsed: dict[str, Any], request: dict[str, Any]) -> None:
        changed = {
            "UpdateComputeEnvironment": (self.ces, "computeEnvironment", False),
            "UpdateJobQueue": (self.jqs, "jobQueue", False),
            "DeleteComputeEnvironment": (self.ces, "computeEnvironment", True),
            "DeleteJobQueue": (self.jqs, "jobQueue", True),
        }.get(operation)
        if changed is not None:
            items, key, deleting = changed
            item = items.setdefault(_short(request.get(key, "")), _Item())
            item.state = request.get("state", item.state)
            item.status = "DELETING" if deleting else "UPDATING"
            item.deleting = item.deleting or deleting
            item.remaining = self.transitions
            return
        if operation == "CreateComputeEnvironment":
            self.ces[parsed["computeEnvironmentName"]] = _Item("CREATING", self.transitions)
        elif operation == "CreateJobQueue":
            self.jqs[parsed["jobQueueName"]] = _Item("CREATING", self.transitions)
        elif operation == "DescribeComputeEnvironments":
            parsed["computeEnvironments"] = self._rewrite(
                parsed.get("computeEnvironments", []), self.ces, "computeEnvironmentName"
            )
        elif operation == "DescribeJobQueues":
            queues = parsed.get("jobQueues", [])
            for queue in queues:
                self.jq_to_ce[queue["jobQueueName"]] = {
                    _short(o["computeEnvironment"])
                    for o in queue.get("computeEnvironmentOrder", [])
                }
            parsed["jobQueues"] = self._rewrite(queues, self.jqs, "jobQueueName")

    def _rewrite(
        self, items: list[dict[str, Any]], known: dict[str, _Item], key: str
    ) -> list[dict[str, Any]]:
        out = []
        seen = set()
        for item in items:
            name = item[key]
            seen.add(name)
            state = known.setdefault(name, _Item())
            state.state = item.get("state", state.state)
            state.snapshot = dict(item)
            if state.remaining > 0:
                state.remaining -= 1
                item = {**item, "status": state.status}
            elif state.status != "VALID":
                state.status = "VALID"
            out.append(item)
        # Deleted ones linger as DELETING for a few describes.
        for name, state in known.items():
            if name not in seen and state.deleting and state.remaining > 0 and state.snapshot:
                state.remaining -= 1
                out.append({**state.snapshot, "status": "DELETING", "state": "DISABLED"})
        return out


def _short(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]


def _form(request_dict: Any) -> dict[str, str]:
    from urllib.parse import parse_qsl

    body = request_dict.get("body") if isinstance(request_dict, dict) else None
    if isinstance(body, dict):
        return {str(k): str(v) for k, v in body.items()}
    if isinstance(body, bytes):
        body = body.decode()
    return dict(parse_qsl(body)) if isinstance(body, str) else {}


def _body(request_dict: Any) -> dict[str, Any]:
    import json

    body = request_dict.get("body") if isinstance(request_dict, dict) else None
    if isinstance(body, bytes | str) and body:
        try:
            return json.loads(body)
        except ValueError:
            return {}
    return {}


# --- AWS Batch name rules -----------------------------------------------------------------

BATCH_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}"
"""Up to 128 letters, numbers, hyphens and underscores, the first alphanumeric.

AWS Batch API reference: SubmitJob ``jobName`` ("It can be up to 128 letters long. The first
character must be alphanumeric, can contain uppercase and lowercase letters, numbers, hyphens
(-), and underscores (_)"); RegisterJobDefinition ``jobDefinitionName``, CreateComputeEnvironment
``computeEnvironmentName`` and CreateJobQueue ``jobQueueName`` (128, same characters; that their
first character must be alphanumeric too is AWS's behaviour, hand-tested in
hashicorp/terraform-provider-aws PR #2159)."""

BATCH_NAME_FIELDS: dict[str, tuple[str, str]] = {
    "SubmitJob": (
        "jobName",
        "Error executing request, Exception : Job name should match valid pattern",
    ),
    "RegisterJobDefinition": (
        "jobDefinitionName",
        "Provided name {name} is not supported pattern[a-zA-Z_0-9-]{{1,128}}",
    ),
    "CreateComputeEnvironment": (
        "computeEnvironmentName",
        "Provided name {name} is not supported pattern[a-zA-Z_0-9-]{{1,128}}",
    ),
    "CreateJobQueue": (
        "jobQueueName",
        "Provided name {name} is not supported pattern[a-zA-Z_0-9-]{{1,128}}",
    ),
}
"""Operation -> (name field, AWS's ClientException message; both messages as AWS answers them,
quoted in fluidattacks/makes#697 and boto/boto3#1330)."""


def batch_name_error(operation: str, body: dict[str, Any]) -> str | None:
    """AWS's ClientException message when ``body`` names a Batch resource AWS refuses."""
    import re

    rule = BATCH_NAME_FIELDS.get(operation)
    if rule is None:
        return None
    field_name, message = rule
    name = body.get(field_name)
    if not isinstance(name, str) or re.fullmatch(BATCH_NAME, name):
        return None
    return message.format(name=name)


SECRETS_WITHOUT_ROLE = (
    "When you are specifying container secrets, you must also specify a value for "
    "'executionRoleArn'."
)


def job_definition_error(operation: str, body: dict[str, Any]) -> str | None:
    """A job definition with ``secrets`` but no ``executionRoleArn``: AWS refuses it (the
    emulator registers it and hands the secrets over anyway).

    AWS Batch User Guide, "Specify sensitive data with Secrets Manager", *Required IAM
    permissions for AWS Batch secrets*: "To use this feature, you must have the execution role
    and reference it in your job definition"
    (https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-secrets.html);
    the message is ECS's for the same rule (RegisterTaskDefinition ClientException)."""
    if operation != "RegisterJobDefinition":
        return None
    props = body.get("containerProperties") or {}
    if props.get("secrets") and not props.get("executionRoleArn"):
        return SECRETS_WITHOUT_ROLE
    return None


class BatchNameRules:
    """AWS Batch's name rules (the emulator accepts any job and job definition name, and
    answers a bad compute environment name with the wrong error code), and its refusal of
    job definition secrets without an execution role (:func:`job_definition_error`).
    Installed for every test by the root ``app_ctx`` fixture; ``refused`` lists (operation,
    message)."""

    def __init__(self) -> None:
        self.refused: list[tuple[str, str]] = []

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [("before-call.batch.*", self._before)]

    def _before(self, model: Any, params: Any, **_: Any) -> Any:
        body = _body(params)
        message = batch_name_error(model.name, body) or job_definition_error(model.name, body)
        if message is None:
            return None
        self.refused.append((model.name, message))
        return aws_error("ClientException", message)
