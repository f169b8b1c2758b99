"""EFS file systems with their mount targets, and FSx for Lustre file systems."""

from __future__ import annotations

from typing import Any

from batchforge.errors import AwsError
from batchforge.forge.resources.base import Created, ForgeContext, Resource, aws_code, tag_list


class EfsFileSystemHandler:
    """An encrypted EFS file system, created with ``CreationToken`` = the resource name (so
    a retry finds it)."""

    kind = "efs-file-system"

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        """By creation token: a property of the file system that DescribeFileSystems filters
        on for as long as it exists (not an expiring idempotency window)."""
        fs_id = self._find(ctx, resource.name)
        return Created(physical_id=fs_id) if fs_id else None

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        efs = ctx.aws.client("efs")
        fs_id = found.physical_id if found is not None else None
        try:
            if fs_id is None:
                fs_id = efs.create_file_system(
                    CreationToken=resource.name,
                    PerformanceMode="generalPurpose",
                    Encrypted=True,
                    Tags=tag_list(ctx.tags),
                )["FileSystemId"]
        except AwsError as error:
            if aws_code(error) != "FileSystemAlreadyExists":
                raise
            fs_id = self._find(ctx, resource.name)
            if fs_id is None:
                raise
        ctx.pacing.until(f"EFS {fs_id} to be available", lambda: self._available(ctx, fs_id))
        return Created(physical_id=fs_id)

    @staticmethod
    def _available(ctx: ForgeContext, fs_id: str) -> bool | None:
        items = ctx.aws.client("efs").describe_file_systems(FileSystemId=fs_id)["FileSystems"]
        state = items[0]["LifeCycleState"] if items else "missing"
        if state in ("error", "missing"):
            raise AwsError(
                f"EFS {fs_id} is {state}.", service="efs", operation="DescribeFileSystems"
            )
        return True if state == "available" else None

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None:
        efs = ctx.aws.client("efs")
        fs_id = physical_id or self._find(ctx, resource.name)
        if fs_id is None:
            return

        def delete() -> None:
            try:
                efs.delete_file_system(FileSystemId=fs_id)
            except AwsError as error:
                if aws_code(error) != "FileSystemNotFound":
                    raise

        # Mount targets take a while to go: FileSystemInUse until then.
        ctx.pacing.retrying(delete, lambda e: aws_code(e) == "FileSystemInUse")

    @staticmethod
    def _find(ctx: ForgeContext, name: str) -> str | None:
        items = ctx.aws.client("efs").describe_file_systems(CreationToken=name)["FileSystems"]
        items = [i for i in items if i.get("LifeCycleState") not in ("deleting", "deleted")]
        return str(items[0]["FileSystemId"]) if items else None


class EfsMountTargetHandler:
    """params: ``file_system`` (key), ``subnet``, ``security_groups``."""

    kind = "efs-mount-target"

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        """The file system's mount target in this subnet (one per zone at most)."""
        fs_id = ctx.output(resource.params["file_system"]).physical_id
        target_id = self._find(ctx, fs_id, resource.params["subnet"])
        return Created(physical_id=target_id, attrs={"file_system": fs_id}) if target_id else None

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        efs = ctx.aws.client("efs")
        fs_id = ctx.output(resource.params["file_system"]).physical_id
        subnet = resource.params["subnet"]
        target_id = found.physical_id if found is not None else None
        try:
            if target_id is None:
                request: dict[str, Any] = {"FileSystemId": fs_id, "SubnetId": subnet}
                if resource.params.get("security_groups"):
                    request["SecurityGroups"] = list(resource.params["security_groups"])
                target_id = efs.create_mount_target(**request)["MountTargetId"]
        except AwsError as error:
            if aws_code(error) != "MountTargetConflict":
                raise
            target_id = self._find(ctx, fs_id, subnet)
            if target_id is None:
                raise
        # A mount target is "creating" for 60-90 s; an instance that boots before it is
        # "available" cannot mount the file system.  The compute environments (next waves)
        # launch instances, so the target must be ready first.
        ctx.pacing.until(
            f"EFS mount target {target_id} to be available",
            lambda: self._target_available(ctx, target_id),
        )
        return Created(physical_id=target_id, attrs={"file_system": fs_id})

    @staticmethod
    def _target_available(ctx: ForgeContext, target_id: str) -> bool | None:
        targets = ctx.aws.client("efs").describe_mount_targets(MountTargetId=target_id)[
            "MountTargets"
        ]
        state = targets[0].get("LifeCycleState", "available") if targets else "missing"
        if state in ("error", "deleted", "deleting", "missing"):
            raise AwsError(
                f"EFS mount target {target_id} is {state}.",
                service="efs",
                operation="DescribeMountTargets",
            )
        return True if state == "available" else None

    @staticmethod
    def _find(ctx: ForgeContext, fs_id: str, subnet: str) -> str | None:
        targets = ctx.aws.client("efs").describe_mount_targets(FileSystemId=fs_id)["MountTargets"]
        for target in targets:
            if target["SubnetId"] == subnet:
                return str(target["MountTargetId"])
        return None

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None:
        if physical_id is None:
            return  # never created: its file system's deletion covers an orphan attempt
        try:
            ctx.aws.client("efs").delete_mount_target(MountTargetId=physical_id)
        except AwsError as error:
            if aws_code(error) != "MountTargetNotFound":
                raise


class FsxFileSystemHandler:
    """An FSx for Lustre (SCRATCH_2) file system; ``ClientRequestToken`` = the name.
    params: ``size_gb``, ``subnet``, ``security_groups``."""

    kind = "fsx-file-system"

    def find(self, ctx: ForgeContext, resource: Resource) -> Created | None:
        """By its Name tag: AWS honours ``ClientRequestToken`` for a while only, and the
        emulator not at all, so a create retried later would make a second file system."""
        fs_id = self._find(ctx, resource.name)
        return Created(physical_id=fs_id) if fs_id else None

    def create(
        self, ctx: ForgeContext, resource: Resource, found: Created | None = None
    ) -> Created:
        fs_id = found.physical_id if found is not None else self._create(ctx, resource)
        system = ctx.pacing.until(
            f"FSx {fs_id} to be available", lambda: self._available(ctx, fs_id)
        )
        lustre = system.get("LustreConfiguration", {})
        return Created(
            physical_id=fs_id,
            attrs={"dns": system.get("DNSName"), "mount_name": lustre.get("MountName")},
        )

    @staticmethod
    def _create(ctx: ForgeContext, resource: Resource) -> str:
        fsx = ctx.aws.client("fsx")
        request: dict[str, Any] = {
            "ClientRequestToken": resource.name[:63],
            "FileSystemType": "LUSTRE",
            "StorageCapacity": resource.params["size_gb"],
            "SubnetIds": [resource.params["subnet"]],
            "LustreConfiguration": {"DeploymentType": "SCRATCH_2"},
            "Tags": tag_list({**ctx.tags, "Name": resource.name}),
        }
        if resource.params.get("security_groups"):
            request["SecurityGroupIds"] = list(resource.params["security_groups"])
        return str(fsx.create_file_system(**request)["FileSystem"]["FileSystemId"])

    @staticmethod
    def _available(ctx: ForgeContext, fs_id: str) -> dict[str, Any] | None:
        systems = ctx.aws.client("fsx").describe_file_systems(FileSystemIds=[fs_id])["FileSystems"]
        system = systems[0] if systems else {"Lifecycle": "MISSING"}
        state = system.get("Lifecycle", "AVAILABLE")  # the emulator omits it: ready at once
        if state in ("FAILED", "MISCONFIGURED", "MISSING"):
            raise AwsError(
                f"FSx {fs_id} is {state}.", service="fsx", operation="DescribeFileSystems"
            )
        return system if state == "AVAILABLE" else None

    def delete(self, ctx: ForgeContext, resource: Resource, physical_id: str | None) -> None:
        fsx = ctx.aws.client("fsx")
        fs_id = physical_id or self._find(ctx, resource.name)
        if fs_id is None:
            return
        try:
            fsx.delete_file_system(FileSystemId=fs_id)
        except AwsError as error:
            if aws_code(error) != "FileSystemNotFound":
                raise

    @staticmethod
    def _find(ctx: ForgeContext, name: str) -> str | None:
        for page in ctx.aws.client("fsx").paginate("describe_file_systems"):
            for system in page["FileSystems"]:
                tags = {tag["Key"]: tag["Value"] for tag in system.get("Tags", [])}
                if tags.get("Name") == name and system.get("Lifecycle") != "DELETING":
                    return str(system["FileSystemId"])
        return None
