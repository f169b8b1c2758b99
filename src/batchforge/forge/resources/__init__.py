"""One handler per AWS resource kind.  The contract of every handler:

- ``create(ctx, resource)`` is idempotent: if a resource with the deterministic name exists
  (an earlier attempt made it), it is adopted, not duplicated; it returns when the resource is
  ready to be used by the next wave (waiting where AWS is asynchronous);
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
