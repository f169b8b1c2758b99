"""The launch template's user data: a MIME multi-part document that cloud-init runs at boot.

Parts, in order: ECS agent settings (plus the user's ``ecsConfig``), the AWS CLI for tasks at
``cliPath`` (Nextflow's ``aws.batch.cliPath``), and the EFS / FSx for Lustre mounts.
"""

from __future__ import annotations

import base64
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from batchforge.forge.spec import ForgeSpec

BOUNDARY = "==BATCHFORGE=="
MINICONDA_URL = "https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-$(uname -m).sh"


def _ecs_part(spec: ForgeSpec) -> str:
    lines = [
        "#!/bin/bash",
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
    return "\n".join(lines) + "\n"


def _cli_part(spec: ForgeSpec) -> str:
    prefix = spec.cli_path.rsplit("/bin/aws", 1)[0] or "/home/ec2-user/miniconda"
    return (
        "#!/bin/bash\n"
        f"if [ ! -x {spec.cli_path} ]; then\n"
        "  yum install -q -y bzip2 wget || dnf install -q -y bzip2 wget\n"
        f"  cd /tmp && wget -q {MINICONDA_URL} -O mc.sh\n"
        f"  bash mc.sh -b -f -p {prefix}\n"
        f"  {prefix}/bin/conda install -q -y -c conda-forge awscli\n"
        "  rm -f mc.sh\n"
        "fi\n"
    )


def _mount_part(
    spec: ForgeSpec, efs_id: str | None, fsx_dns: str | None, fsx_mount_name: str | None
) -> str | None:
    lines = ["#!/bin/bash"]
    if efs_id and spec.efs_mount:
        lines += [
            "yum install -q -y amazon-efs-utils || dnf install -q -y amazon-efs-utils",
            f"mkdir -p {spec.efs_mount}",
            f"mount -t efs -o tls {efs_id}:/ {spec.efs_mount}",
            f"echo '{efs_id}:/ {spec.efs_mount} efs _netdev,tls 0 0' >> /etc/fstab",
        ]
    if fsx_dns and spec.fsx_mount:
        mount_name = fsx_mount_name or "fsx"
        lines += [
            "amazon-linux-extras install -y lustre || dnf install -q -y lustre-client",
            f"mkdir -p {spec.fsx_mount}",
            f"mount -t lustre -o noatime,flock {fsx_dns}@tcp:/{mount_name} {spec.fsx_mount}",
        ]
    return "\n".join(lines) + "\n" if len(lines) > 1 else None


def build_user_data(
    spec: ForgeSpec,
    efs_id: str | None = None,
    fsx_dns: str | None = None,
    fsx_mount_name: str | None = None,
) -> str:
    """Base64 of the MIME multi-part user data (as EC2's LaunchTemplateData expects)."""
    message = MIMEMultipart("mixed", boundary=BOUNDARY)
    parts = [_ecs_part(spec), _cli_part(spec), _mount_part(spec, efs_id, fsx_dns, fsx_mount_name)]
    for part in parts:
        if part:
            message.attach(MIMEText(part, "x-shellscript"))
    return base64.b64encode(message.as_bytes()).decode()
