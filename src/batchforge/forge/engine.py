"""Apply a plan with a write-ahead journal; roll back or dispose from the journal.

Invariants:
- before a create is attempted its journal entry says CREATING; after it succeeded, CREATED
  with the AWS id.  So whatever happens (an AWS error, a crash), the journal names every
  resource that may exist;
- rollback and disposal read only the journal (not the plan): they remove exactly what was
  recorded, newest wave first, and tolerate resources that are already gone;
- names are deterministic, and a resource whose entry an earlier attempt left (CREATING, no
  id) is looked up by name or Name tag and adopted before anything is created again, so
  re-running ``create`` after a crash converges instead of duplicating.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from batchforge.aws.session import AwsSession
from batchforge.errors import AwsError
from batchforge.forge.plan import build_plan, launch_template
from batchforge.forge.resources import HANDLERS, Created, ForgeContext, Resource
from batchforge.forge.resources.batch import BatchError
from batchforge.forge.spec import ForgeSpec
from batchforge.forge.userdata import build_user_data
from batchforge.forge.waits import Pacing

log = logging.getLogger("batchforge.forge")

CREATING, CREATED, DELETING, DELETED = "CREATING", "CREATED", "DELETING", "DELETED"

CE_RECOVERIES = 3
"""How many times a compute environment that turned INVALID while IAM propagated is
re-created before the forge fails."""

_IAM_PROPAGATION = (
    "sts:assumerole",
    "ecs:describeclusters",
    "instance profile",
    "instanceprofile",
    "iam:passrole",
)


def iam_not_propagated(reason: str) -> bool:
    """True when a compute environment's INVALID ``statusReason`` is AWS Batch not yet seeing
    the roles Forge just made (``CLIENT_ERROR - User: ... is not authorized to perform:
    sts:AssumeRole`` / ``ecs:DescribeClusters``, or an unknown instance profile)."""
    text = reason.lower()
    return "client_error" in text and any(mark in text for mark in _IAM_PROPAGATION)


class ForgeInterrupted(Exception):
    """A create stopped between two waves because it is no longer wanted (the environment
    was deleted meanwhile): what it made is in the journal, for the disposal."""


@dataclass
class JournalEntry:
    key: str
    kind: str
    name: str
    wave: int
    status: str
    params: dict[str, Any] = field(default_factory=dict)
    physical_id: str | None = None
    arn: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def resource(self) -> Resource:
        return Resource(
            key=self.key, kind=self.kind, name=self.name, wave=self.wave, params=self.params
        )


class Journal(Protocol):
    """Durable record of a compute environment's resources (the database, in the product)."""

    def load(self) -> dict[str, JournalEntry]: ...

    def record(self, entry: JournalEntry) -> None: ...


class ForgeEngine:
    """Creates and disposes of one compute environment's resources."""

    def __init__(
        self,
        aws: AwsSession,
        journal: Journal,
        pacing: Pacing | None = None,
        tags: dict[str, str] | None = None,
        max_workers: int = 6,
        on_change: Callable[[JournalEntry], None] | None = None,
        still_wanted: Callable[[], bool] | None = None,
    ):
        self.aws = aws
        self.journal = journal
        self.pacing = pacing or Pacing()
        self.tags = tags or {}
        self.max_workers = max_workers
        self.on_change = on_change
        self.still_wanted = still_wanted

    def _record(self, entry: JournalEntry) -> None:
        self.journal.record(entry)
        if self.on_change:
            self.on_change(entry)

    # --- create --------------------------------------------------------------------------

    def create(
        self, spec: ForgeSpec, subnet_zones: dict[str, str] | None = None
    ) -> dict[str, Created]:
        """Create (or finish creating) everything ``spec`` needs; returns outputs by key.

        Raises the first failure of a wave once the whole wave has finished, so the journal
        is complete when the caller rolls back; raises :class:`ForgeInterrupted` before a
        wave when ``still_wanted`` says the create is no longer wanted.
        """
        ctx = ForgeContext(
            aws=self.aws,
            pacing=self.pacing,
            tags=spec.resource_tags() | self.tags,
            account_id=spec.account_id,
        )
        done = self.journal.load()
        plan = build_plan(spec, subnet_zones)
        image_id: str | None = None
        for wave_no in range(4):
            if self.still_wanted is not None and not self.still_wanted():
                raise ForgeInterrupted(f"stopped before wave {wave_no}: no longer wanted")
            wave = [r for r in plan if r.wave == wave_no]
            if wave_no == 0 and "launch-template" not in _created(done):
                wave_extra: list[Callable[[], Any]] = [lambda: self._resolve_image(spec)]
            else:
                wave_extra = []
            if wave_no == 1:
                wave.append(self._launch_template(spec, ctx, image_id, done))
            results = self._run_wave(ctx, wave, done, wave_extra)
            if wave_extra:
                image_id = results[0]
        return ctx.outputs

    def _resolve_image(self, spec: ForgeSpec) -> str:
        if spec.image_id:
            return spec.image_id
        parameter = spec.ami_parameter
        found = self.aws.client("ssm").get_parameters(Names=[parameter])
        values = [p["Value"] for p in found.get("Parameters", [])]
        if not values:
            raise AwsError(
                f"The ECS-optimized AMI parameter {parameter} does not exist in {spec.region}.",
                service="ssm",
                operation="GetParameters",
                aws_code="ParameterNotFound",
                hint="Choose another AMI family or region, or give an image id.",
            )
        return str(values[0])

    def _launch_template(
        self,
        spec: ForgeSpec,
        ctx: ForgeContext,
        image_id: str | None,
        done: dict[str, JournalEntry],
    ) -> Resource:
        entry = done.get("launch-template")
        if entry is not None and entry.status == CREATED:
            return entry.resource()
        efs_id = ctx.outputs["efs"].physical_id if "efs" in ctx.outputs else spec.efs_id
        fsx = ctx.outputs.get("fsx")
        if fsx is not None:
            fsx_dns, mount_name = fsx.attrs.get("dns"), fsx.attrs.get("mount_name")
        elif spec.fsx_id:
            fsx_dns, mount_name = self._existing_fsx(spec.fsx_id)
        else:
            fsx_dns = mount_name = None
        user_data = build_user_data(spec, efs_id, fsx_dns, mount_name)
        return launch_template(spec, image_id or spec.image_id or "", user_data)

    def _existing_fsx(self, fsx: str) -> tuple[str, str | None]:
        """DNS name and MountName of the user's FSx for Lustre file system (by id, or by its
        DNS name): Lustre is mounted as ``<DNSName>@tcp:/<MountName>``, and MountName is
        random except on SCRATCH_1 (fsx:DescribeFileSystems, in the seed)."""
        client = self.aws.client("fsx")
        if fsx.startswith("fs-") and "." not in fsx:
            systems = client.describe_file_systems(FileSystemIds=[fsx])["FileSystems"]
        else:
            systems = [
                system
                for page in client.paginate("describe_file_systems")
                for system in page["FileSystems"]
                if system.get("DNSName") == fsx
            ]
        if not systems:
            raise AwsError(
                f"The FSx for Lustre file system {fsx} does not exist in this region.",
                service="fsx",
                operation="DescribeFileSystems",
                aws_code="FileSystemNotFound",
                hint="Give the id (fs-...) of a Lustre file system in the environment's region.",
            )
        system = systems[0]
        lustre = system.get("LustreConfiguration") or {}
        return str(system.get("DNSName") or fsx), lustre.get("MountName")

    def _run_wave(
        self,
        ctx: ForgeContext,
        wave: list[Resource],
        done: dict[str, JournalEntry],
        extra: list[Callable[[], Any]],
    ) -> list[Any]:
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            extra_futures = [pool.submit(job) for job in extra]
            futures = [pool.submit(self._create_one, ctx, r, done.get(r.key)) for r in wave]
            errors = [f.exception() for f in [*extra_futures, *futures]]
        failure = next((e for e in errors if e is not None), None)
        if failure is not None:
            raise failure
        return [f.result() for f in extra_futures]

    def _create_one(
        self, ctx: ForgeContext, resource: Resource, entry: JournalEntry | None
    ) -> None:
        if entry is not None and entry.status == CREATED:
            ctx.outputs[resource.key] = Created(entry.physical_id or "", entry.arn, entry.attrs)
            return
        pending = JournalEntry(
            resource.key,
            resource.kind,
            resource.name,
            resource.wave,
            CREATING,
            params=resource.params,
        )
        self._record(pending)
        try:
            # An earlier attempt may have made it and died before recording its id: look it
            # up by name (or Name tag) and adopt it, rather than trust an idempotency token.
            found = HANDLERS[resource.kind].find(ctx, resource) if entry is not None else None
            if found is not None:
                log.info("adopting %s %s (%s)", resource.kind, resource.name, found.physical_id)
            created = self._create_recovering(ctx, resource, found)
        except Exception as error:
            pending.error = str(error)
            self._record(pending)
            raise
        ctx.outputs[resource.key] = created
        self._record(
            JournalEntry(
                resource.key,
                resource.kind,
                resource.name,
                resource.wave,
                CREATED,
                resource.params,
                created.physical_id,
                created.arn,
                created.attrs,
            )
        )

    def _create_recovering(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        """Create ``resource``; a compute environment that turns INVALID because IAM had not
        yet propagated its new roles or instance profile to Batch (a CLIENT_ERROR naming
        sts:AssumeRole, ecs:DescribeClusters or the instance profile: hashicorp/terraform-
        provider-aws #37945, #21281) is deleted and created again, at most
        :data:`CE_RECOVERIES` times, instead of failing the whole forge."""
        handler = HANDLERS[resource.kind]
        attempt = 0
        while True:
            try:
                return handler.create(ctx, resource, found)
            except BatchError as error:
                if (
                    resource.kind != "batch-compute-environment"
                    or attempt >= CE_RECOVERIES
                    or not iam_not_propagated(error.aws_message or str(error))
                ):
                    raise
                attempt += 1
                log.warning(
                    "compute environment %s is INVALID while IAM propagates (%s): "
                    "re-creating it (%d/%d)",
                    resource.name,
                    error.aws_message,
                    attempt,
                    CE_RECOVERIES,
                )
                handler.delete(ctx, resource, None)
                found = None
                self.pacing.sleep(self.pacing.retry_interval * attempt)

    # --- dispose -------------------------------------------------------------------------

    def dispose(self) -> None:
        """Delete everything the journal names, newest wave first.  Safe to call again."""
        entries = [e for e in self.journal.load().values() if e.status != DELETED]
        ctx = ForgeContext(aws=self.aws, pacing=self.pacing, tags=self.tags, account_id="")
        for wave_no in sorted({e.wave for e in entries}, reverse=True):
            wave = [e for e in entries if e.wave == wave_no]
            with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
                errors = [
                    f.exception() for f in [pool.submit(self._delete_one, ctx, e) for e in wave]
                ]
            failure = next((e for e in errors if e is not None), None)
            if failure is not None:
                raise failure

    def _delete_one(self, ctx: ForgeContext, entry: JournalEntry) -> None:
        entry.status, entry.error = DELETING, None
        self._record(entry)
        try:
            HANDLERS[entry.kind].delete(ctx, entry.resource(), entry.physical_id)
        except Exception as error:
            entry.error = str(error)
            self._record(entry)
            raise
        entry.status = DELETED
        self._record(entry)


def _created(done: dict[str, JournalEntry]) -> set[str]:
    return {key for key, entry in done.items() if entry.status == CREATED}
