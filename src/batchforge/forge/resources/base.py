"""Shared types of the resource handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from batchforge.aws.session import AwsSession
from batchforge.errors import AwsError
from batchforge.forge.waits import Pacing


@dataclass(frozen=True)
class Resource:
    """One resource of a plan.  ``key`` is unique within a compute environment and stable
    across runs (it is the journal's key); ``params`` are the kind's inputs, and
    ``refs`` name earlier resources (by key) whose outputs this one needs."""

    key: str
    kind: str
    name: str
    wave: int
    params: dict[str, Any] = field(default_factory=dict)
    refs: tuple[str, ...] = ()


@dataclass
class Created:
    """What a create returned: the AWS id/ARN and any attributes later resources need."""

    physical_id: str
    arn: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ForgeContext:
    """What handlers work with: AWS clients, pacing, tags, and outputs of earlier waves."""

    aws: AwsSession
    pacing: Pacing
    tags: dict[str, str]
    account_id: str
    outputs: dict[str, Created] = field(default_factory=dict)

    def output(self, key: str) -> Created:
        return self.outputs[key]


class Handler(Protocol):
    kind: str

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        """The resource if it exists already, looked up by its deterministic name (or Name
        tag); None when it does not.  Never relies on an idempotency token: AWS honours those
        for a limited time only, and the emulator not at all for FSx."""
        ...

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        """Create the resource -- or, when ``found``, adopt it without a create call -- and
        finish it (policies, roles, waits) until the next wave can use it."""
        ...

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None: ...


def aws_code(error: AwsError) -> str:
    return error.aws_code or ""


def says(error: AwsError, *fragments: str) -> bool:
    """True when AWS's message contains one of ``fragments`` (case-insensitive)."""
    text = (error.aws_message or "").lower()
    return any(fragment.lower() in text for fragment in fragments)


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
