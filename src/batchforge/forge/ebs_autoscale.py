"""EBS auto-scaling of Docker's storage (Seqera's ``forge.ebsAutoScale`` / ``ebsBlockSize``).

The instances run the awslabs **amazon-ebs-autoscale** daemon, pinned to the last commit of
its (now archived) repository, :data:`COMMIT`.  The tag v2.4.7 is not used: its IMDSv2 support
is broken (``shared/utils.sh`` builds the token header in single quotes, and
``bin/create-ebs-volume`` never reads the ``--imdsv2`` setting), and forged launch templates
require IMDSv2 tokens (``HttpTokens: required``); the fixes landed after it (PRs #72, #74).

What it does, read from its source at :data:`COMMIT`:

* ``install.sh`` creates, attaches and formats a first volume (``create-ebs-volume --size``),
  mounts it at the mount point (LVM + ext4 with ``-f lvm.ext4``), writes
  ``/etc/ebs-autoscale.json`` and starts the ``ebs-autoscale`` systemd service;
* ``bin/ebs-autoscale`` checks the file system every 2 seconds and, above a use threshold
  (50 %, higher as volumes are added), adds a volume and grows the file system;
* ``bin/create-ebs-volume`` makes the AWS calls (:data:`EC2_ACTIONS`) with the AWS CLI and the
  instance role: it tags every volume ``source-instance=<instance id>`` and
  ``amazon-ebs-autoscale-creation-time=<time>`` (plus the instance's own tags), creates it
  encrypted with the configured type, and sets DeleteOnTermination so that the volumes go
  with the instance.

The mount point is Docker's storage, ``/var/lib/docker``, as Seqera's Forge and AWS's
genomics-workflows launch templates do: on the ECS-optimized AMIs every task container's
writable layer (overlay2) lives there, and Nextflow's awsbatch tasks stage their inputs and
write their outputs inside the container, so that is where task scratch space runs out.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from batchforge.forge.spec import ForgeSpec

REPOSITORY = "https://github.com/awslabs/amazon-ebs-autoscale"
COMMIT = "8c8ac28914bf9302e4f5821ba99daac6e7fc05eb"
"""The last commit of awslabs/amazon-ebs-autoscale (2024-04-19), after v2.4.7."""
ARCHIVE_URL = f"{REPOSITORY}/archive/{COMMIT}.tar.gz"
MOUNT_POINT = "/var/lib/docker"
INSTALL_DIR = "/opt/amazon-ebs-autoscale"
SERVICE_DROP_IN = "/etc/systemd/system/ebs-autoscale.service.d"
VOLUME_TYPE = "gp3"
MAX_VOLUME_SIZE = 1500
"""The daemon's defaults for the largest volume and for all volumes of an instance together
(``install.sh``: 1500 and 8000 GiB); raised to the block size when that is larger."""
MAX_TOTAL_SIZE = 8000
MIN_BLOCK_SIZE, MAX_BLOCK_SIZE = 1, 16384
"""gp3 volume sizes (GiB) EC2 accepts (CreateVolume, "Size")."""

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PLAIN_DIR = re.compile(r"^/[A-Za-z0-9._+/-]+$")

SOURCE_TAG = "source-instance"
CREATION_TAG = "amazon-ebs-autoscale-creation-time"
"""Tags ``bin/create-ebs-volume`` puts on every volume it creates."""

EC2_ACTIONS = (
    "ec2:DescribeTags",
    "ec2:DescribeVolumes",
    "ec2:CreateVolume",
    "ec2:CreateTags",
    "ec2:AttachVolume",
    "ec2:DeleteVolume",
    "ec2:ModifyInstanceAttribute",
)
"""Every EC2 call of the daemon (``bin/create-ebs-volume`` and ``bin/ebs-autoscale`` at
:data:`COMMIT`): ``aws ec2 describe-tags`` (the instance's tags, copied to the volume),
``describe-volumes`` (attached and created volumes, their total size; also
``aws ec2 wait volume-available``), ``create-volume --tag-specification`` (authorised as
CreateVolume and, for the tags, CreateTags), ``attach-volume``, ``delete-volume`` (a volume
that could not be attached), ``modify-instance-attribute --block-device-mappings``
(DeleteOnTermination).  The README's list adds ec2:DescribeVolumeStatus and
ec2:DescribeVolumeAttribute, which no script calls: not granted.  ``uninstall.sh``
(DetachVolume) is never run here."""


def install_script(spec: ForgeSpec) -> str:
    """The body of the user-data part (after the common prelude) that installs the daemon on
    :data:`MOUNT_POINT` with the environment's block size.

    Docker is stopped while its directory moves onto the new file system and started again
    if it was running; the ECS agent starts only after cloud-init (see forge.userdata), so no
    task can see the switch.  Idempotent: a mount point already mounted is left alone.
    """
    size = spec.ebs_block_size
    cli_dir = spec.cli_path.rsplit("/", 1)[0]
    # The service's PATH (a systemd drop-in): the system's, then cliPath's directory when it
    # is a plain path (systemd's Environment= has its own quoting rules).
    service_path = SYSTEM_PATH + (f":{cli_dir}" if _PLAIN_DIR.match(cli_dir) else "")
    options = " ".join(
        [
            "--imdsv2",
            "--file-system lvm.ext4",
            f"--mountpoint {MOUNT_POINT}",
            f"--volume-type {VOLUME_TYPE}",
            f"--initial-size {size}",
            f"--min-ebs-volume-size {size}",
            f"--max-ebs-volume-size {max(size, MAX_VOLUME_SIZE)}",
            f"--max-total-created-size {max(size, MAX_TOTAL_SIZE)}",
        ]
    )
    return f"""MOUNT={MOUNT_POINT}
SRC={INSTALL_DIR}
if mountpoint -q "$MOUNT"; then
  echo "batchforge: $MOUNT is already a mount point; EBS auto-scaling is in place" >&2
  exit 0
fi
bf_retry 5 10 yum install -q -y jq lvm2
# The daemon calls the AWS CLI: the AMI's own if it has one, else the one installed at cliPath.
export PATH="$PATH":{shlex.quote(cli_dir or "/usr/bin")}
command -v aws >/dev/null || bf_fail "no AWS CLI for the EBS auto-scaling daemon"
mkdir -p "$SRC" {SERVICE_DROP_IN}
archive="$(mktemp /tmp/ebs-autoscale.XXXXXX)"
bf_retry 5 10 curl -fsSL --retry 3 -o "$archive" "{ARCHIVE_URL}"
tar -xzf "$archive" -C "$SRC" --strip-components=1
rm -f "$archive"
cat > {SERVICE_DROP_IN}/batchforge.conf <<'EOF'
[Service]
Environment=PATH={service_path}
EOF
docker_was_active=false
if systemctl is-active --quiet docker.service; then
  docker_was_active=true
fi
systemctl stop docker.socket docker.service || systemctl stop docker.service
backup=""
if [ -d "$MOUNT" ]; then
  backup="$MOUNT.batchforge-before-autoscale"
  mv "$MOUNT" "$backup"
fi
bash "$SRC/install.sh" {options}
mountpoint -q "$MOUNT" || bf_fail "$MOUNT is not mounted after the EBS auto-scaling install"
if [ -n "$backup" ]; then
  cp -a "$backup/." "$MOUNT/"
  rm -rf "$backup"
fi
# install.sh leaves the mount point world-writable (1777); Docker's data root is 0710.
chmod 0710 "$MOUNT"
systemctl is-active --quiet ebs-autoscale || bf_fail "the ebs-autoscale service is not running"
if [ "$docker_was_active" = true ]; then
  systemctl start docker.service
fi
df -h "$MOUNT"
"""


def instance_policy(spec: ForgeSpec) -> dict[str, Any]:
    """The instance role's inline policy for the daemon: :data:`EC2_ACTIONS` and nothing else,
    scoped as far as EC2 allows.

    * DescribeTags / DescribeVolumes have no resource-level permissions: ``*``.
    * CreateVolume: volumes of this region only, encrypted, of :data:`VOLUME_TYPE`, tagged by
      the daemon, and with ``source-instance`` naming the calling instance
      (``ec2:SourceInstanceARN``, present on requests signed with an instance's role).
    * CreateTags: only as part of CreateVolume (``ec2:CreateAction``).
    * AttachVolume / DeleteVolume / ModifyInstanceAttribute on a volume: only volumes whose
      ``source-instance`` tag is the calling instance (so one instance never touches another's
      volumes); on an instance (AttachVolume, ModifyInstanceAttribute): only the calling
      instance itself (``ec2:InstanceID`` used as a policy variable, as IAM allows for a
      service's keys on the resources that carry them).
    """
    volumes = f"arn:aws:ec2:{spec.region}:*:volume/*"
    caller = f"arn:aws:ec2:{spec.region}:*:instance/"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EbsAutoscaleDescribe",
                "Effect": "Allow",
                "Action": ["ec2:DescribeTags", "ec2:DescribeVolumes"],
                "Resource": "*",
            },
            {
                "Sid": "EbsAutoscaleCreateVolume",
                "Effect": "Allow",
                "Action": "ec2:CreateVolume",
                "Resource": volumes,
                "Condition": {
                    "ArnLike": {
                        "ec2:SourceInstanceARN": f"{caller}${{aws:RequestTag/{SOURCE_TAG}}}"
                    },
                    "Null": {f"aws:RequestTag/{CREATION_TAG}": "false"},
                    "Bool": {"ec2:Encrypted": "true"},
                    "StringEquals": {"ec2:VolumeType": VOLUME_TYPE},
                },
            },
            {
                "Sid": "EbsAutoscaleTagNewVolumes",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": volumes,
                "Condition": {"StringEquals": {"ec2:CreateAction": "CreateVolume"}},
            },
            {
                "Sid": "EbsAutoscaleOwnVolumes",
                "Effect": "Allow",
                "Action": ["ec2:AttachVolume", "ec2:DeleteVolume", "ec2:ModifyInstanceAttribute"],
                "Resource": volumes,
                "Condition": {
                    "ArnLike": {
                        "ec2:SourceInstanceARN": f"{caller}${{aws:ResourceTag/{SOURCE_TAG}}}"
                    }
                },
            },
            {
                "Sid": "EbsAutoscaleThisInstance",
                "Effect": "Allow",
                "Action": ["ec2:AttachVolume", "ec2:ModifyInstanceAttribute"],
                "Resource": f"{caller}*",
                "Condition": {"ArnLike": {"ec2:SourceInstanceARN": f"{caller}${{ec2:InstanceID}}"}},
            },
        ],
    }
