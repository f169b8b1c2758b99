"""One handler per AWS resource kind.  The contract of every handler:

- ``find(ctx, resource)`` looks the resource up by its deterministic name (or Name tag), not
  by an idempotency token (AWS honours those for a while only): the engine calls it before
  creating again whatever an earlier attempt may have made without recording its id;
- ``create(ctx, resource, found)`` adopts ``found`` (no create call) or creates; it is also
  idempotent on its own (an "already exists" answer is adopted, not duplicated); it returns
  when the resource is ready to be used by the next wave (waiting where AWS is asynchronous);
- ``delete(ctx, entry)`` tolerates a resource that is already gone, does what AWS needs first
  (disable, detach, remove) and returns when it is gone;
- both raise :class:`batchforge.errors.AwsError` on failures that retrying will not fix.
"""

from batchforge.forge.resources.base import Created, ForgeContext, Handler, Resource
from batchforge.forge.resources.batch import ComputeEnvironmentHandler, JobQueueHandler
from batchforge.forge.resources.ec2 import LaunchTemplateHandler
from batchforge.forge.resources.iam import InstanceProfileHandler, RoleHandler
from batchforge.forge.resources.storage import (
    EfsFileSystemHandler,
    EfsMountTargetHandler,
    FsxFileSystemHandler,
)

HANDLERS: dict[str, Handler] = {
    handler.kind: handler
    for handler in (
        RoleHandler(),
        InstanceProfileHandler(),
        LaunchTemplateHandler(),
        EfsFileSystemHandler(),
        EfsMountTargetHandler(),
        FsxFileSystemHandler(),
        ComputeEnvironmentHandler(),
        JobQueueHandler(),
    )
}

__all__ = ["HANDLERS", "Created", "ForgeContext", "Handler", "Resource"]
