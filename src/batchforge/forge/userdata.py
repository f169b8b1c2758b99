"""The launch template's user data: a MIME multi-part document that cloud-init runs at boot.

Parts, in order: ECS agent settings (plus the user's ``ecsConfig``), the AWS CLI for tasks at
``cliPath`` (Nextflow's ``aws.batch.cliPath``), EBS auto-scaling of Docker's storage when asked
for (:mod:`batchforge.forge.ebs_autoscale`), and the EFS / FSx for Lustre mounts.

Every part fails loudly.  cloud-init runs the ``x-shellscript`` parts in order and goes on after
one that failed, and the ECS agent (``ecs.service``, ``After=cloud-final.service`` on the
ECS-optimized AL2 and AL2023 AMIs: aws/amazon-ecs-init PR #175) starts when cloud-init is done
-- so an instance whose CLI install or mount failed would join the cluster and fail every task.
Here each part runs under ``set -euo pipefail`` with an ``ERR`` trap that keeps the instance
out of ECS: it masks the agent (a masked unit cannot start) and cancels its queued start
without waiting for it (``systemctl stop --no-block``: waiting on ecs from user data
deadlocks, aws/amazon-ecs-agent #1707), records the reason, and powers the instance off so
that Batch replaces it.  Later parts see the failure marker and stop at once.

The CLI comes from conda-forge only: Miniforge (github.com/conda-forge/miniforge releases),
whose only channel is conda-forge -- Miniconda's defaults channels stop a non-interactive
install on their terms of service (``CondaToSNonInteractiveError``, nextflow-io/nextflow PR
#6685) -- and is checked with ``$cliPath --version`` before the instance may join.
"""

from __future__ import annotations

import base64
import shlex
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from batchforge.forge import ebs_autoscale
from batchforge.forge.spec import ForgeSpec

BOUNDARY = "==BATCHFORGE=="
MINIFORGE_URL = (
    "https://github.com/conda-forge/miniforge/releases/latest/download/"
    "Miniforge3-Linux-$(uname -m).sh"
)
STATE_DIR = "/var/lib/batchforge"
"""Where a failed bootstrap leaves ``bootstrap-failed`` (the reason)."""
MOUNT_ATTEMPTS = 30
MOUNT_DELAY = 10
"""A mount is tried for up to ~5 minutes: a new EFS mount target's DNS name, or a Lustre
file system, can take a while to answer after it is reported available."""

_PRELUDE = f"""#!/bin/bash
# batchforge bootstrap part: %(name)s
set -Eeuo pipefail
BF_STATE="${{BATCHFORGE_STATE_DIR:-{STATE_DIR}}}"
bf_fail() {{
  local reason="$1"
  trap - ERR
  set +e
  echo "batchforge bootstrap FAILED (%(name)s): $reason; this instance will not join ECS" >&2
  mkdir -p "$BF_STATE"
  echo "%(name)s: $reason" >> "$BF_STATE/bootstrap-failed"
  systemctl mask ecs
  systemctl stop --no-block ecs
  shutdown -h +1 "batchforge bootstrap failed: $reason"
  exit 1
}}
trap 'bf_fail "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
if [ -e "$BF_STATE/bootstrap-failed" ]; then
  echo "batchforge: an earlier bootstrap part failed; skipping %(name)s" >&2
  exit 1
fi
bf_retry() {{
  # bf_retry ATTEMPTS DELAY COMMAND...: run COMMAND until it succeeds, at most ATTEMPTS times.
  local attempts="$1" delay="$2" n=1
  shift 2
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then
      echo "batchforge: gave up after $n attempts: $*" >&2
      return 1
    fi
    n=$((n + 1))
    sleep "$delay"
  done
}}
"""


def _prelude(name: str) -> str:
    return _PRELUDE % {"name": name}


def _ecs_part(spec: ForgeSpec) -> str:
    lines = [
        "mkdir -p /etc/ecs",
        "cat >> /etc/ecs/ecs.config <<'ECSEOF'",
        "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
        "ECS_IMAGE_CLEANUP_INTERVAL=10m",
        "ECS_CONTAINER_CREATE_TIMEOUT=10m",
        "ECS_CONTAINER_START_TIMEOUT=10m",
    ]
    if spec.ecs_config:
        lines.extend(spec.ecs_config.strip().splitlines())
    lines.append("ECSEOF")
    return _prelude("ecs-config") + "\n".join(lines) + "\n"


def _cli_part(spec: ForgeSpec) -> str:
    cli = shlex.quote(spec.cli_path)
    prefix = shlex.quote(spec.cli_path.rsplit("/bin/aws", 1)[0] or "/home/ec2-user/miniconda")
    return _prelude("aws-cli") + (
        f"CLI={cli}\n"
        f"PREFIX={prefix}\n"
        'if ! "$CLI" --version >/dev/null 2>&1; then\n'
        '  installer="$(mktemp /tmp/miniforge.XXXXXX)"\n'
        f'  bf_retry 5 10 curl -fsSL --retry 3 -o "$installer" "{MINIFORGE_URL}"\n'
        '  bash "$installer" -b -f -p "$PREFIX"\n'
        '  rm -f "$installer"\n'
        '  bf_retry 3 10 "$PREFIX/bin/conda" install -y -q --override-channels '
        "-c conda-forge awscli\n"
        "fi\n"
        '"$CLI" --version || bf_fail "the AWS CLI at $CLI does not run"\n'
    )


def _ebs_autoscale_part(spec: ForgeSpec) -> str | None:
    if not spec.ebs_auto_scale:
        return None
    return _prelude("ebs-autoscale") + ebs_autoscale.install_script(spec)


def _mount_part(
    spec: ForgeSpec, efs_id: str | None, fsx_dns: str | None, fsx_mount_name: str | None
) -> str | None:
    lines: list[str] = []
    retry = f"bf_retry {MOUNT_ATTEMPTS} {MOUNT_DELAY}"
    if efs_id and spec.efs_mount:
        path = shlex.quote(spec.efs_mount)
        lines += [
            "bf_retry 5 10 yum install -q -y amazon-efs-utils",
            f"mkdir -p {path}",
            f"{retry} mount -t efs -o tls {efs_id}:/ {path}",
            f"echo '{efs_id}:/ {spec.efs_mount} efs _netdev,tls 0 0' >> /etc/fstab",
        ]
    if fsx_dns and spec.fsx_mount:
        # MountName is random except on SCRATCH_1 file systems, where it is "fsx"; an
        # answer without one (the local emulator's) falls back to that.
        mount_name = fsx_mount_name or "fsx"
        path = shlex.quote(spec.fsx_mount)
        lines += [
            # AL2: the Lustre client comes from amazon-linux-extras; AL2023: lustre-client.
            "if command -v amazon-linux-extras >/dev/null 2>&1; then",
            "  bf_retry 5 10 amazon-linux-extras install -y lustre",
            "else",
            "  bf_retry 5 10 yum install -q -y lustre-client",
            "fi",
            f"mkdir -p {path}",
            f"{retry} mount -t lustre -o relatime,flock {fsx_dns}@tcp:/{mount_name} {path}",
        ]
    return _prelude("mounts") + "\n".join(lines) + "\n" if lines else None


def user_data_parts(
    spec: ForgeSpec,
    efs_id: str | None = None,
    fsx_dns: str | None = None,
    fsx_mount_name: str | None = None,
) -> list[str]:
    """The shell scripts, in the order cloud-init runs them."""
    parts = [
        _ecs_part(spec),
        _cli_part(spec),
        _ebs_autoscale_part(spec),
        _mount_part(spec, efs_id, fsx_dns, fsx_mount_name),
    ]
    return [part for part in parts if part]


def build_user_data(
    spec: ForgeSpec,
    efs_id: str | None = None,
    fsx_dns: str | None = None,
    fsx_mount_name: str | None = None,
) -> str:
    """Base64 of the MIME multi-part user data (as EC2's LaunchTemplateData expects).

    ``fsx_dns`` / ``fsx_mount_name``: the Lustre file system's ``DNSName`` and
    ``LustreConfiguration.MountName`` from fsx:DescribeFileSystems; it is mounted as
    ``<DNSName>@tcp:/<MountName>`` (FSx for Lustre User Guide, "Mounting the file system").
    """
    message = MIMEMultipart("mixed", boundary=BOUNDARY)
    for part in user_data_parts(spec, efs_id, fsx_dns, fsx_mount_name):
        message.attach(MIMEText(part, "x-shellscript"))
    return base64.b64encode(message.as_bytes()).decode()
